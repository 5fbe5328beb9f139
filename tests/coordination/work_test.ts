import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { InvalidValueError, RedisCommandError } from "../../src/errors.ts";
import { unreadInbox } from "../../src/inbox.ts";
import { Room } from "../../src/room.ts";
import {
  listWork,
  type SetWorkOptions,
  setWorkStatus,
  type WorkState,
  workStatusId,
} from "../../src/coordination/work.ts";
import { uniqueRepo } from "../support/redis.ts";
import { withRoom } from "../support/room.ts";
import {
  alice,
  bob,
  coordSizes,
  eventsOf,
  serverPassed,
  untouchablePort,
} from "../support/coord.ts";

function work(state: WorkState, extra: Partial<SetWorkOptions> = {}): SetWorkOptions {
  return { agent: alice, state, scope: "auth", summary: `auth is ${state}`, ...extra };
}

Deno.test("setWorkStatus() keeps one current status per (agent, scope) and writes WORK_STATUS", async () => {
  await withRoom(async (room) => {
    const started = await setWorkStatus(room, work("started"));
    const { status } = started;
    assert.equal(status.id, await workStatusId(alice.agent_id, "auth"));
    assert.match(status.id, /^[0-9a-f]{32}$/);
    assert.equal(status.schema_version, 1);
    assert.equal(status.agent_id, alice.agent_id);
    assert.equal(status.agent_handle, "alice");
    assert.equal(status.state, "started");
    assert.equal(status.summary, "auth is started");
    assert.equal(status.to, undefined);
    assert.equal(status.data, undefined);
    assert.equal(status.expires_at - status.updated_at, 24 * 3_600_000);
    assert.equal(started.inboxId, undefined);
    const [event] = await eventsOf(room, "WORK_STATUS");
    assert.equal(event!.id, started.auditId);
    assert.equal(event!.timestamp, status.updated_at);
    assert.deepEqual(event!.payload, status);
    assert.deepEqual(await listWork(room), [status]);

    const blocked = await setWorkStatus(room, work("blocked", { summary: "waiting on review" }));
    await setWorkStatus(room, work("started", { scope: "db" }));
    await setWorkStatus(room, work("started", { agent: bob }));
    const current = await listWork(room);
    assert.equal(current.length, 3);
    assert.ok(current.some((s) => s.id === status.id && s.state === "blocked"));
    for (let i = 1; i < current.length; i++) {
      assert.ok(current[i - 1]!.updated_at >= current[i]!.updated_at, "newest first");
    }
    assert.ok(current.some((s) => s.id === blocked.status.id));
  });
});

Deno.test("completed and failed clear the current status but keep the audit event", async () => {
  await withRoom(async (room) => {
    await setWorkStatus(room, work("started"));
    await setWorkStatus(room, work("started", { scope: "db" }));
    const done = await setWorkStatus(room, work("completed"));
    assert.equal(done.status.state, "completed");
    assert.deepEqual((await listWork(room)).map((s) => s.scope), ["db"]);
    await setWorkStatus(room, work("failed", { scope: "db" }));
    assert.deepEqual(await listWork(room), []);
    assert.deepEqual(
      (await eventsOf(room, "WORK_STATUS")).map((e) =>
        e.payload && (e.payload as { state: string }).state
      ),
      [
        "started",
        "started",
        "completed",
        "failed",
      ],
    );
    for (const key of [room.keys.work, room.keys.workExpiry]) {
      assert.equal(await room.redis.call(["EXISTS", key]), 0);
    }
  });
});

Deno.test("handoff needs a destination and lands in its inbox; any destination gets a copy", async () => {
  await withRoom(async (room) => {
    await assert.rejects(setWorkStatus(room, work("handoff")), /handoff requires a destination/);
    const handoff = await setWorkStatus(room, work("handoff", { to: bob.agent_id }));
    assert.equal(handoff.status.to, bob.agent_id);
    assert.ok(handoff.inboxId);
    const blocked = await setWorkStatus(room, work("blocked", { scope: "db", to: bob.agent_id }));
    const inbox = await unreadInbox(room, { recipient: bob.agent_id });
    assert.deepEqual(inbox.map((e) => e.inbox_id), [handoff.inboxId, blocked.inboxId]);
    assert.deepEqual(inbox.map((e) => e.event.id), [handoff.auditId, blocked.auditId]);
    assert.equal(inbox[0]!.event.type, "WORK_STATUS");
    assert.equal(inbox[0]!.event.to, bob.agent_id);
    assert.deepEqual(inbox[0]!.event.payload, handoff.status);
    assert.deepEqual(await unreadInbox(room, { recipient: alice.agent_id }), []);
  });
});

Deno.test("data is JSON text stored verbatim: big numbers, empty arrays and slashes survive", async () => {
  await withRoom(async (room, redis) => {
    const data = '{"big":12345678901234567890,"empty":[],"url":"a/b","obj":{}}';
    const r = await setWorkStatus(room, work("started", { dataJson: ` ${data}\n` }));
    const raw = await redis.call(["HGET", room.keys.work, r.status.id]) as string;
    assert.ok(raw.includes(`"data":${data}`), raw);
    const [entry] = await redis.call(["XRANGE", room.keys.events, r.auditId, r.auditId]) as [
      string,
      string[],
    ][];
    const payload = entry![1][entry![1].indexOf("payload") + 1]!;
    assert.ok(payload.includes(`"data":${data}`), payload);
    assert.deepEqual(JSON.parse(payload), r.status);
    const scalar = await setWorkStatus(room, work("started", { scope: "s", dataJson: "42" }));
    assert.equal(scalar.status.data, 42);
  });
});

Deno.test("a work status lapses after its TTL and the next write prunes it", async () => {
  await withRoom(async (room, redis) => {
    const r = await setWorkStatus(room, work("started", { ttlMs: 30 }));
    await serverPassed(room, r.status.expires_at);
    assert.deepEqual(await listWork(room), []);
    const next = await setWorkStatus(room, work("started", { scope: "db" }));
    assert.deepEqual(await redis.call(["HKEYS", room.keys.work]), [next.status.id]);
  });
});

Deno.test("setWorkStatus() rejects bad input before touching Redis", async () => {
  const port = untouchablePort();
  const room = new Room(port, roomConfig({ repo: uniqueRepo(), branch: "main" }));
  const bad: Partial<SetWorkOptions>[] = [
    { state: "done" as WorkState },
    { scope: " " },
    { summary: "" },
    { summary: "x".repeat(501) },
    { state: "handoff" },
    { to: "room:key" },
    { to: "two words" },
    { dataJson: "{not json" },
    { dataJson: JSON.stringify("x".repeat(20_000)) },
    { ttlMs: 0 },
    { ttlMs: 86_400_001 },
  ];
  for (const extra of bad) {
    await assert.rejects(
      setWorkStatus(room, work("started", extra)),
      InvalidValueError,
      JSON.stringify(extra).slice(0, 80),
    );
  }
  assert.equal(port.used, 0);
});

Deno.test("setWorkStatus() writes nothing when a key it writes has the wrong type", async () => {
  for (const target of ["events", "work", "workExpiry", "inbox", "inboxRecipients"] as const) {
    await withRoom(async (room, redis) => {
      await setWorkStatus(room, work("started"));
      const key = target === "inbox" ? room.keys.inbox(bob.agent_id) : room.keys[target];
      const before = await coordSizes(room);
      const aside = `${room.keys.prefix}:aside`;
      const existed = await redis.call(["EXISTS", key]) === 1;
      if (existed) await redis.call(["RENAME", key, aside]);
      await redis.call(["SET", key, "wrong type"]);
      await assert.rejects(
        setWorkStatus(room, work("handoff", { scope: "db", to: bob.agent_id })),
        RedisCommandError,
      );
      await redis.call(["DEL", key]);
      if (existed) await redis.call(["RENAME", aside, key]);
      assert.deepEqual(await coordSizes(room), before, target);
    });
  }
});

Deno.test("inbox copies written by the coordination scripts respect the inbox cap", async () => {
  await withRoom(async (room, redis) => {
    // MAXLEN ~ trims whole stream nodes (100 entries each), so the length stays near the cap
    for (let i = 0; i < 400; i += 50) {
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, j) => setWorkStatus(room, work("blocked", { scope: `s${i + j}`, to: bob.agent_id })),
        ),
      );
    }
    const length = await redis.call(["XLEN", room.keys.inbox(bob.agent_id)]) as number;
    assert.ok(length >= 10 && length <= 110, `inbox length ${length}`);
    const expiry = await redis.call(["ZSCORE", room.keys.inboxRecipients, bob.agent_id]);
    assert.ok(Number(expiry) > await room.serverTime(), "the recipient is indexed with an expiry");
  }, { tunables: { inboxMaxLen: 10 } });
});
