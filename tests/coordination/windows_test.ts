import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { InvalidValueError, RedisCommandError } from "../../src/errors.ts";
import { guardResources } from "../../src/coordination/guard.ts";
import { unreadInbox } from "../../src/inbox.ts";
import {
  acquireLease,
  type Lease,
  listLeases,
  releaseLease,
  renewLease,
} from "../../src/coordination/leases.ts";
import { Room } from "../../src/room.ts";
import {
  listWindows,
  type QuietWindow,
  requestWindow,
  type RequestWindowOptions,
  windowStatus,
} from "../../src/coordination/windows.ts";
import {
  ackWindow,
  activateWindow,
  cancelWindow,
  releaseWindow,
} from "../../src/coordination/window_lifecycle.ts";
import { uniqueRepo } from "../support/redis.ts";
import { withRoom } from "../support/room.ts";
import {
  alice,
  bob,
  carol,
  coordSizes,
  eventsOf,
  serverPassed,
  untouchablePort,
} from "../support/coord.ts";

async function lease(room: Room, agent = bob, resources = ["path:src/db/schema.sql"]) {
  const r = await acquireLease(room, { agent, resources, purpose: "editing" });
  assert.equal(r.outcome, "acquired", JSON.stringify(r));
  return (r as { lease: Lease }).lease;
}

async function request(
  room: Room,
  options: Partial<RequestWindowOptions> = {},
  expected: "active" | "pending" = "pending",
): Promise<QuietWindow> {
  const r = await requestWindow(room, {
    agent: alice,
    resources: ["path:src/db"],
    purpose: "migration",
    ...options,
  });
  assert.equal(r.outcome, expected, JSON.stringify(r));
  return (r as { window: QuietWindow }).window;
}

Deno.test("a window with no peers and no blockers is active at once: WINDOW_REQUESTED, WINDOW_ACTIVATED", async () => {
  await withRoom(async (room) => {
    // the requester's own lease does not block its window
    await lease(room, alice, ["path:src/db/schema.sql"]);
    const w = await request(room, { ttlMs: 60_000, require: [alice.agent_id] }, "active");
    assert.equal(w.state, "active");
    assert.equal(w.owner, alice.agent_id);
    assert.deepEqual(w.required, []);
    assert.equal(w.expires_at, w.created_at + 60_000);
    const events = await eventsOf(room, "WINDOW_REQUESTED", "WINDOW_ACTIVATED");
    assert.deepEqual(events.map((e) => e.type), ["WINDOW_REQUESTED", "WINDOW_ACTIVATED"]);
    assert.equal(events[1]!.reply_to, events[0]!.id);
    assert.deepEqual(events[1]!.payload, { schema_version: 1, window: w });
    assert.deepEqual(await listWindows(room), [w]);
    assert.deepEqual(await windowStatus(room, w.id), w);
    // the owner's guard is safe inside its window; others are kept out
    const mine = await guardResources(room, {
      agentId: alice.agent_id,
      resources: ["path:src/db/x"],
      requireHeld: true,
    });
    assert.equal(mine.safe, true);
    const theirs = await acquireLease(room, {
      agent: bob,
      resources: ["path:src/db/other"],
      purpose: "x",
    });
    assert.equal(theirs.outcome, "conflict");
    assert.equal(theirs.outcome === "conflict" && theirs.conflict.kind, "window");
  });
});

Deno.test("lease owners become required acknowledgers with an inbox notice; the full lifecycle", async () => {
  await withRoom(async (room) => {
    const held = await lease(room, bob, ["path:src/db/schema.sql"]);
    const w = await request(room, { require: [carol.agent_id], ackTimeoutMs: 60_000 });
    assert.equal(w.state, "pending");
    assert.deepEqual(w.required, [bob.agent_id, carol.agent_id].sort());
    assert.deepEqual(w.via_lease, [bob.agent_id]);
    assert.deepEqual(w.acknowledged, []);
    assert.equal(w.ack_deadline, w.created_at + 60_000);

    const [requested] = await eventsOf(room, "WINDOW_REQUESTED");
    const notices = await eventsOf(room, "WINDOW_ACK_REQUIRED");
    assert.deepEqual(notices.map((e) => e.to).sort(), w.required);
    for (const notice of notices) {
      assert.equal(notice.reply_to, requested!.id);
      assert.equal(notice.agent_id, alice.agent_id);
      const [copy] = await unreadInbox(room, { recipient: notice.to });
      assert.equal(copy!.event.id, notice.id, "the inbox copy points at the room event");
      assert.equal(copy!.event.type, "WINDOW_ACK_REQUIRED");
      assert.deepEqual(copy!.event.payload, notice.payload);
    }
    assert.match(JSON.stringify(notices.find((e) => e.to === bob.agent_id)!.payload), /lease/);
    assert.equal(await eventsOf(room, "WINDOW_ACTIVATED").then((e) => e.length), 0);

    // the pending window blocks new overlapping leases of others and renewals of overlapping ones
    const blocked = await acquireLease(room, {
      agent: carol,
      resources: ["path:src/db/other"],
      purpose: "x",
    });
    assert.equal(
      blocked.outcome === "conflict" && blocked.conflict.kind,
      "window",
      JSON.stringify(blocked),
    );
    const renewal = await renewLease(room, { agent: bob, leaseId: held.id });
    assert.equal(renewal.outcome, "conflict");
    assert.equal(renewal.outcome === "conflict" && renewal.conflict.owner, alice.agent_id);
    await lease(room, carol, ["path:src/dbx"]); // not overlapping
    const own = await acquireLease(room, {
      agent: alice,
      resources: ["db:x", "path:src/db/a"],
      purpose: "x",
    });
    assert.equal(own.outcome, "acquired", "the owner's own window does not block the owner");

    // activation waits for acks, then for the blocking lease
    const early = await activateWindow(room, { agent: alice, windowId: w.id });
    assert.equal(early.outcome, "acks");
    assert.deepEqual(early.outcome === "acks" && early.outstanding, w.required);
    assert.deepEqual(await activateWindow(room, { agent: bob, windowId: w.id }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    const acked = await ackWindow(room, { agent: carol, windowId: w.id });
    assert.equal(acked.outcome === "acknowledged" && acked.already, false);
    const again = await ackWindow(room, { agent: carol, windowId: w.id });
    assert.equal(again.outcome === "acknowledged" && again.already, true);
    assert.deepEqual(await ackWindow(room, { agent: alice, windowId: w.id }), {
      outcome: "not_required",
      owner: alice.agent_id,
    });
    assert.equal((await ackWindow(room, { agent: bob, windowId: w.id })).outcome, "acknowledged");
    const leaseLeft = await activateWindow(room, { agent: alice, windowId: w.id });
    assert.equal(leaseLeft.outcome, "conflict", "refused while the blocking lease lives");
    if (leaseLeft.outcome === "conflict" && leaseLeft.conflict.kind === "lease") {
      assert.equal(leaseLeft.conflict.leaseId, held.id);
      assert.equal(leaseLeft.conflict.owner, bob.agent_id);
    } else assert.fail(JSON.stringify(leaseLeft));
    assert.equal((await releaseLease(room, { agent: bob, leaseId: held.id })).outcome, "released");

    const active = await activateWindow(room, { agent: alice, windowId: w.id });
    assert.equal(active.outcome, "activated");
    if (active.outcome !== "activated") return;
    assert.equal(active.window.state, "active");
    assert.deepEqual(active.window.acknowledged, w.required);
    assert.deepEqual(await activateWindow(room, { agent: alice, windowId: w.id }), {
      outcome: "state",
      state: "active",
    });
    assert.deepEqual(await ackWindow(room, { agent: carol, windowId: w.id }), {
      outcome: "state",
      state: "active",
    });
    assert.deepEqual(await cancelWindow(room, { agent: alice, windowId: w.id }), {
      outcome: "state",
      state: "active",
    });
    const unsafe = await guardResources(room, {
      agentId: bob.agent_id,
      resources: ["path:src/db"],
    });
    assert.equal(unsafe.safe, false);

    assert.deepEqual(await releaseWindow(room, { agent: bob, windowId: w.id }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    const released = await releaseWindow(room, { agent: alice, windowId: w.id });
    assert.equal(released.outcome === "released" && released.already, false);
    const twice = await releaseWindow(room, { agent: alice, windowId: w.id });
    assert.equal(twice.outcome === "released" && twice.already, true);
    assert.equal((await windowStatus(room, w.id))?.state, "released");
    assert.deepEqual(await listWindows(room), []);
    assert.deepEqual((await listWindows(room, { all: true })).map((x) => x.state), ["released"]);
    await lease(room, bob, ["path:src/db/schema.sql"]);
    assert.deepEqual(
      (await eventsOf(room, "WINDOW_ACKNOWLEDGED", "WINDOW_ACTIVATED", "WINDOW_RELEASED"))
        .map((e) => e.type),
      ["WINDOW_ACKNOWLEDGED", "WINDOW_ACKNOWLEDGED", "WINDOW_ACTIVATED", "WINDOW_RELEASED"],
    );
  });
});

Deno.test("a lease holder that yields counts as acknowledged (an absent owner cannot block forever)", async () => {
  await withRoom(async (room) => {
    const held = await lease(room, bob, ["path:src/db"]);
    const w = await request(room, { ackTimeoutMs: 60_000 });
    assert.deepEqual(w.required, [bob.agent_id]);
    assert.equal((await activateWindow(room, { agent: alice, windowId: w.id })).outcome, "acks");
    await releaseLease(room, { agent: bob, leaseId: held.id });
    assert.equal(
      (await activateWindow(room, { agent: alice, windowId: w.id })).outcome,
      "activated",
    );
  });
});

Deno.test("a blocking lease that lapses also unblocks activation", async () => {
  await withRoom(async (room) => {
    const r = await acquireLease(room, {
      agent: bob,
      resources: ["db:main"],
      purpose: "x",
      ttlMs: 40,
    });
    assert.equal(r.outcome, "acquired");
    const w = await request(room, { resources: ["db:main"], ackTimeoutMs: 60_000 });
    await serverPassed(room, r.outcome === "acquired" ? r.lease.expires_at : 0);
    assert.equal(
      (await activateWindow(room, { agent: alice, windowId: w.id })).outcome,
      "activated",
    );
  });
});

Deno.test("a pending window lapses at its ack deadline: no ack, no activation, a new window may start", async () => {
  await withRoom(async (room) => {
    const w = await request(room, { require: [carol.agent_id], ackTimeoutMs: 40 });
    assert.deepEqual((await listWindows(room)).map((x) => x.id), [w.id]);
    await serverPassed(room, w.ack_deadline);
    assert.deepEqual(await ackWindow(room, { agent: carol, windowId: w.id }), {
      outcome: "expired",
    });
    assert.deepEqual(await activateWindow(room, { agent: alice, windowId: w.id }), {
      outcome: "expired",
    });
    assert.equal((await windowStatus(room, w.id))?.state, "expired");
    assert.deepEqual(await listWindows(room), []);
    assert.deepEqual((await listWindows(room, { all: true })).map((x) => x.state), ["expired"]);
    await lease(room, bob, ["path:src/db/x"]); // no longer blocked
    const next = await request(room, { agent: carol }, "pending");
    assert.deepEqual(next.required, [bob.agent_id]);
    const cancelled = await cancelWindow(room, { agent: alice, windowId: w.id });
    assert.equal(cancelled.outcome, "cancelled", "a lapsed pending window can still be cancelled");
    assert.equal((await eventsOf(room, "WINDOW_CANCELLED")).length, 1);
  });
});

Deno.test("an active window lapses at its end; overlapping windows are refused while live", async () => {
  await withRoom(async (room) => {
    const w = await request(room, { ttlMs: 40 }, "active");
    for (const agent of [alice, bob]) {
      const r = await requestWindow(room, { agent, resources: ["path:src"], purpose: "x" });
      assert.equal(r.outcome, "conflict", "live windows never overlap, not even the owner's");
      if (r.outcome === "conflict" && r.conflict.kind === "window") {
        assert.equal(r.conflict.windowId, w.id);
        assert.equal(r.conflict.state, "active");
        assert.equal(r.conflict.conflictsWith, "path:src/db");
      }
    }
    await request(room, { agent: bob, resources: ["path:src/dbx"] }, "active");
    await serverPassed(room, w.expires_at);
    assert.equal((await windowStatus(room, w.id))?.state, "expired");
    await lease(room, bob, ["path:src/db"]);
    assert.equal((await releaseWindow(room, { agent: alice, windowId: w.id })).outcome, "released");
    assert.deepEqual(await cancelWindow(room, { agent: alice, windowId: "f".repeat(32) }), {
      outcome: "missing",
    });
  });
});

Deno.test("two concurrent activations: one wins, the other sees it active", async () => {
  await withRoom(async (room) => {
    const w = await request(room, { require: [bob.agent_id] });
    await ackWindow(room, { agent: bob, windowId: w.id });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => activateWindow(room, { agent: alice, windowId: w.id })),
    );
    assert.equal(results.filter((r) => r.outcome === "activated").length, 1);
    assert.equal(results.filter((r) => r.outcome === "state").length, 7);
    assert.equal((await eventsOf(room, "WINDOW_ACTIVATED")).length, 1);
  });
});

Deno.test("window functions reject bad input before touching Redis", async () => {
  const port = untouchablePort();
  const room = new Room(port, roomConfig({ repo: uniqueRepo(), branch: "main" }));
  const base = { agent: alice, resources: ["db:x"], purpose: "x" };
  const bad: Promise<unknown>[] = [
    requestWindow(room, { ...base, resources: [] }),
    requestWindow(room, { ...base, resources: ["path:/abs"] }),
    requestWindow(room, { ...base, purpose: "" }),
    requestWindow(room, { ...base, ttlMs: 0 }),
    requestWindow(room, { ...base, ackTimeoutMs: 25 * 3_600_000 }),
    requestWindow(room, { ...base, require: ["room:key"] }),
    requestWindow(room, { ...base, require: [""] }),
    ackWindow(room, { agent: alice, windowId: "x" }),
    activateWindow(room, { agent: alice, windowId: "0".repeat(31) }),
    releaseWindow(room, { agent: alice, windowId: "g".repeat(32) }),
    cancelWindow(room, { agent: alice, windowId: "" }),
    windowStatus(room, "nope"),
  ];
  for (const [i, p] of bad.entries()) await assert.rejects(p, InvalidValueError, `#${i}`);
  assert.equal(port.used, 0);
});

Deno.test("window scripts write nothing when a key they write has the wrong type", async () => {
  for (const target of ["events", "windows", "windowsKeep", "inboxRecipients", "inbox"] as const) {
    await withRoom(async (room, redis) => {
      await lease(room, bob, ["path:src/db"]);
      const pending = await request(room, { resources: ["db:other"], require: [carol.agent_id] });
      const key = target === "inbox" ? room.keys.inbox(bob.agent_id) : room.keys[target];
      const before = await coordSizes(room);
      const aside = `${room.keys.prefix}:aside`;
      const existed = await redis.call(["EXISTS", key]) === 1;
      if (existed) await redis.call(["RENAME", key, aside]);
      await redis.call(["SET", key, "wrong type"]);
      const attempts = [
        requestWindow(room, { agent: alice, resources: ["path:src"], purpose: "x" }),
        ...(target === "inbox" || target === "inboxRecipients" ? [] : [
          ackWindow(room, { agent: carol, windowId: pending.id }),
          activateWindow(room, { agent: alice, windowId: pending.id }),
          cancelWindow(room, { agent: alice, windowId: pending.id }),
        ]),
      ];
      for (const [i, attempt] of attempts.entries()) {
        await assert.rejects(attempt, RedisCommandError, `${target} #${i}`);
      }
      await redis.call(["DEL", key]);
      if (existed) await redis.call(["RENAME", aside, key]);
      assert.deepEqual(await coordSizes(room), before, `${target}: nothing was written`);
      assert.deepEqual((await listWindows(room)).map((w) => w.id), [pending.id]);
      assert.equal((await listLeases(room)).length, 1);
    });
  }
});
