import assert from "node:assert/strict";
import { sweepLapses } from "../src/coordination/lapses.ts";
import type { JsonValue, RoomEvent } from "../src/codec.ts";
import { roomConfig } from "../src/config.ts";
import { InvalidValueError, RedisCommandError } from "../src/errors.ts";
import { resolveIdentity } from "../src/identity.ts";
import { Room } from "../src/room.ts";
import {
  catalog,
  claimLoad,
  claimTask,
  completeTask,
  MAX_CLAIM_TTL_MS,
  openTasks,
  registerTask,
  releaseTask,
  taskState,
} from "../src/tasks.ts";
import { uniqueRepo } from "./support/redis.ts";
import { withRoom } from "./support/room.ts";
import { untouchablePort } from "./support/coord.ts";
import { until } from "./support/poll.ts";

const alice = resolveIdentity("alice", "aaaa1111");
const bob = resolveIdentity("bob", "bbbb2222");
const carol = resolveIdentity("carol", "cccc3333");

/** Waits until a claim on `taskId` has lapsed (the task is open again). */
async function lapsed(room: Room, taskId: string): Promise<void> {
  await until(`the claim on ${taskId} to lapse`, async () => {
    return (await taskState(room, taskId))?.state === "open";
  });
}

async function publishTask(room: Room, type = "FIX", payload: JsonValue = null): Promise<string> {
  return (await room.publish({ type, agent: alice, payload })).id;
}

async function openIds(room: Room, count = 100): Promise<string[]> {
  return (await openTasks(room, count)).map((e) => e.id);
}

Deno.test("registerTask() and catalog(): sorted, cleaned, overwritten, malformed entries skipped", async () => {
  await withRoom(async (room, redis) => {
    assert.deepEqual(await catalog(room), []);
    assert.equal(await registerTask(room, { type: "REVIEW", description: "review a PR" }), 0);
    assert.equal(
      await registerTask(room, {
        type: "DEPLOY",
        description: "deploy to staging",
        produces: "a URL",
        requires: "",
        prereq: "BUILD_OK",
      }),
      0,
    );
    assert.deepEqual(await catalog(room), [
      { type: "DEPLOY", description: "deploy to staging", produces: "a URL", prereq: "BUILD_OK" },
      { type: "REVIEW", description: "review a PR" },
    ]);
    // overwrite: same type, new definition; not new, so no backfill
    assert.equal(
      await registerTask(room, { type: "REVIEW", description: "review twice", requires: "a PR" }),
      0,
    );
    assert.deepEqual((await catalog(room)).find((d) => d.type === "REVIEW"), {
      type: "REVIEW",
      description: "review twice",
      requires: "a PR",
    });
    // entries another tool wrote: not JSON, JSON without a type, JSON null
    await redis.call(["HSET", room.keys.catalog, "BROKEN", "{not json", "NOTYPE", "{}"]);
    await redis.call(["HSET", room.keys.catalog, "ANUMBER", "42"]);
    assert.deepEqual((await catalog(room)).map((d) => d.type), ["DEPLOY", "REVIEW"]);
    // the catalog shares the room's idle TTL
    const pttl = await redis.call(["PTTL", room.keys.catalog]) as number;
    assert.ok(pttl > 0 && pttl <= room.config.streamTtlMs, `pttl ${pttl}`);
  });
});

Deno.test("registerTask() rejects bad types and prerequisites before writing", async () => {
  await withRoom(async (room, redis) => {
    for (const type of ["", "has space", "x".repeat(65), "ctl\u0007"]) {
      await assert.rejects(registerTask(room, { type, description: "d" }), InvalidValueError);
    }
    await assert.rejects(
      registerTask(room, { type: "OK", description: "d", prereq: "bad prereq" }),
      InvalidValueError,
    );
    assert.equal(await redis.call(["EXISTS", room.keys.catalog]), 0);
  });
});

Deno.test("registerTask() backfills earlier events of the type once, skipping done ones", async () => {
  await withRoom(async (room, redis) => {
    const early = [await publishTask(room), await publishTask(room), await publishTask(room)];
    await room.publish({ type: "NOTE", agent: alice });
    // a completion marker left from an earlier registration of the type
    await redis.call(["HSET", room.keys.done, early[1]!, "null"]);
    assert.deepEqual(await openIds(room), [], "not tasks before registration");
    assert.equal(await registerTask(room, { type: "FIX", description: "fix" }), 2);
    assert.deepEqual(await openIds(room), [early[2], early[0]]);
    // re-registering (overwrite) does not scan again
    assert.equal(await registerTask(room, { type: "FIX", description: "fix it" }), 0);
    // published after registration: indexed by the publish script
    const late = await publishTask(room);
    assert.deepEqual(await openIds(room), [late, early[2], early[0]]);
    assert.equal(await redis.call(["ZCARD", room.keys.openTasks]), 3);
  });
});

Deno.test("registerTask() backfill walks a stream longer than one batch", async () => {
  await withRoom(async (room) => {
    const tasks: string[] = [];
    const events = await Promise.all(
      Array.from(
        { length: 2_500 },
        (_, i) => room.publish({ type: i % 100 === 99 ? "FIX" : "NOTE", agent: alice, payload: i }),
      ),
    );
    for (const e of events) if (e.type === "FIX") tasks.push(e.id);
    assert.equal(tasks.length, 25);
    assert.equal(await registerTask(room, { type: "FIX", description: "fix" }), 25);
    assert.deepEqual(await openIds(room), tasks.toReversed());
  });
});

Deno.test("openTasks(): newest first, count limit, claim drops out, release brings back, done is gone", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await publishTask(room, "FIX", i));
      await room.publish({ type: "NOTE", agent: alice, payload: i });
    }
    const newest = ids.toReversed();
    assert.deepEqual(await openIds(room), newest);
    assert.deepEqual(await openIds(room, 3), newest.slice(0, 3));
    assert.deepEqual((await openTasks(room, 1))[0]?.payload, 4);

    assert.equal((await claimTask(room, { taskId: ids[4]!, agent: alice })).outcome, "claimed");
    assert.deepEqual(await openIds(room), newest.slice(1));
    assert.deepEqual(await openIds(room, 2), [ids[3], ids[2]], "the limit skips claimed tasks");

    assert.equal((await releaseTask(room, { taskId: ids[4]!, agent: alice })).outcome, "released");
    assert.deepEqual(await openIds(room), newest);

    assert.equal((await completeTask(room, { taskId: ids[2]!, agent: bob })).outcome, "completed");
    assert.deepEqual(await openIds(room), [ids[4], ids[3], ids[1], ids[0]]);
    assert.equal(
      (await completeTask(room, { taskId: ids[3]!, agent: alice, result: { ok: true } })).outcome,
      "completed",
    );
    assert.deepEqual(await openIds(room), [ids[4], ids[1], ids[0]]);
  });
});

Deno.test("openTasks(): newest first within one millisecond too (sequence, not text order)", async () => {
  await withRoom(async (room, redis) => {
    // backfilled ids chosen to share a millisecond: text order would put -10 before -9
    const ids: string[] = [];
    for (let seq = 0; seq < 25; seq++) {
      const id = `1700000000000-${seq}`;
      await redis.call(["XADD", room.keys.events, id, "type", "FIX", "payload", String(seq)]);
      ids.push(id);
    }
    await redis.call(["XADD", room.keys.events, "1700000000001-0", "type", "FIX"]);
    ids.push("1700000000001-0");
    assert.equal(await registerTask(room, { type: "FIX", description: "fix" }), 26);
    assert.deepEqual(await openIds(room), ids.toReversed());
    // published in one burst: many land in one millisecond
    const burst = (await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => room.publish({ type: "FIX", agent: alice, payload: i }),
      ),
    )).map((e) => e.id);
    assert.deepEqual(await openIds(room, 1_000), [...ids, ...burst].toReversed());
  });
});

Deno.test("openTasks(): a lapsed claim is open again; done after the lapse stays gone", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const a = await publishTask(room);
    const b = await publishTask(room);
    assert.equal(
      (await claimTask(room, { taskId: a, agent: alice, ttlMs: 60 })).outcome,
      "claimed",
    );
    assert.equal(
      (await claimTask(room, { taskId: b, agent: alice, ttlMs: 60 })).outcome,
      "claimed",
    );
    assert.deepEqual(await openIds(room), []);
    await until("both claims to lapse", async () => (await openIds(room)).length === 2);
    assert.deepEqual(await openIds(room), [b, a]);
    // done after the lease lapsed: gone for good
    const done = await completeTask(room, { taskId: b, agent: alice });
    assert.deepEqual(done.outcome === "completed" && done.previousOwner, "");
    assert.deepEqual(await openIds(room), [a]);
    assert.equal((await claimTask(room, { taskId: b, agent: bob })).outcome, "done");
    assert.deepEqual(await openIds(room), [a]);
  });
});

Deno.test("openTasks(): pages past claimed tasks and past index entries whose events are gone", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const ids = (await Promise.all(
      Array.from({ length: 60 }, (_, i) => room.publish({ type: "FIX", agent: alice, payload: i })),
    )).map((e) => e.id);
    // the 10 newest vanish from the stream (trimmed) and the next 40 are claimed:
    // the first page (50 ids for a count of 1) holds nothing open
    for (const id of ids.slice(50)) await redis.call(["XDEL", room.keys.events, id]);
    for (const id of ids.slice(10, 50)) {
      assert.equal((await claimTask(room, { taskId: id, agent: bob })).outcome, "claimed");
    }
    assert.deepEqual(await openIds(room, 1), [ids[9]]);
    assert.equal(await redis.call(["ZCARD", room.keys.openTasks]), 50, "vanished ids pruned");
    assert.deepEqual(await openIds(room, 3), [ids[9], ids[8], ids[7]]);
  });
});

for (const transport of ["resp", "ioredis"] as const) {
  Deno.test(`claimTask(): claimed, renewed, held, done, and the lease deadline is exact (${transport})`, async () => {
    await withRoom(async (room, redis) => {
      await registerTask(room, { type: "FIX", description: "fix" });
      const id = await publishTask(room);
      const before = await room.serverTime();
      const first = await claimTask(room, { taskId: id, agent: alice, ttlMs: 60_000 });
      assert.equal(first.outcome, "claimed");
      assert.ok(first.outcome === "claimed");
      const [audit] = await room.recent(1);
      assert.equal(audit?.id, first.auditId);
      assert.equal(audit?.type, "TASK_CLAIMED");
      assert.ok(audit!.timestamp >= before);
      // the lease deadline, the claims index and the audit timestamp share one clock reading
      assert.equal(first.expiresAt, audit!.timestamp + 60_000);
      assert.equal(
        Number(await redis.call(["PEXPIRETIME", room.keys.taskOwner(id)])),
        first.expiresAt,
      );
      assert.equal(Number(await redis.call(["ZSCORE", room.keys.claims, id])), first.expiresAt);
      assert.equal(await redis.call(["GET", room.keys.taskOwner(id)]), alice.agent_id);

      const renewed = await claimTask(room, { taskId: id, agent: alice, ttlMs: 120_000 });
      assert.equal(renewed.outcome, "renewed");
      assert.ok(renewed.outcome === "renewed" && renewed.expiresAt >= first.expiresAt + 60_000);

      const held = await claimTask(room, { taskId: id, agent: bob });
      assert.equal(held.outcome, "held");
      assert.ok(held.outcome === "held");
      assert.equal(held.owner, alice.agent_id);
      assert.ok(held.ttlMs > 60_000 && held.ttlMs <= 120_000, `ttl ${held.ttlMs}`);
      assert.equal(await redis.call(["GET", room.keys.taskOwner(id)]), alice.agent_id);

      await completeTask(room, { taskId: id, agent: alice });
      assert.deepEqual(await claimTask(room, { taskId: id, agent: bob }), { outcome: "done" });
      assert.deepEqual(await claimTask(room, { taskId: id, agent: alice }), { outcome: "done" });
    }, { transport });
  });
}

Deno.test("claimTask(): unknown id, events that are not tasks, prerequisite gate and --force", async () => {
  await withRoom(async (room, redis) => {
    assert.deepEqual(await claimTask(room, { taskId: "1-0", agent: alice }), {
      outcome: "unknown",
    });
    const note = await room.publish({ type: "NOTE", agent: alice });
    assert.deepEqual(await claimTask(room, { taskId: note.id, agent: alice }), {
      outcome: "not_task",
      type: "NOTE",
    });
    await registerTask(room, { type: "DEPLOY", description: "deploy", prereq: "BUILD_OK" });
    const deploy = await publishTask(room, "DEPLOY");
    const gated = await publishTask(room, "DEPLOY");
    assert.deepEqual(await claimTask(room, { taskId: deploy, agent: alice }), {
      outcome: "prereq",
      prereq: "BUILD_OK",
    });
    assert.equal(await redis.call(["EXISTS", room.keys.taskOwner(deploy)]), 0);

    const forced = await claimTask(room, { taskId: gated, agent: bob, force: true });
    assert.equal(forced.outcome, "claimed");
    const [audit] = await room.recent(1);
    assert.deepEqual(audit?.payload, {
      task_id: gated,
      task_type: "DEPLOY",
      ttl_ms: 300_000,
      forced: true,
      renewed: false,
    });

    await room.publish({ type: "BUILD_OK", agent: carol });
    assert.equal((await claimTask(room, { taskId: deploy, agent: alice })).outcome, "claimed");
    assert.equal(await redis.call(["GET", room.keys.taskOwner(deploy)]), alice.agent_id);
  });
});

Deno.test("claimTask() TTL and id validation throw InvalidValueError before touching Redis", async () => {
  const port = untouchablePort();
  const room = new Room(port, roomConfig({ repo: uniqueRepo(), branch: "main" }));
  for (const ttlMs of [0, -1, -60_000, MAX_CLAIM_TTL_MS + 1, 1.5, NaN, Infinity]) {
    await assert.rejects(
      claimTask(room, { taskId: "1763700000000-0", agent: alice, ttlMs }),
      (error: unknown) => error instanceof InvalidValueError && /ttl/.test(error.message),
      `ttl ${ttlMs}`,
    );
  }
  for (const taskId of ["", "abc", "1-2-3", "-1", "1763700000000-x", "1-0 "]) {
    await assert.rejects(claimTask(room, { taskId, agent: alice }), InvalidValueError, taskId);
    await assert.rejects(completeTask(room, { taskId, agent: alice }), InvalidValueError, taskId);
    await assert.rejects(releaseTask(room, { taskId, agent: alice }), InvalidValueError, taskId);
    await assert.rejects(taskState(room, taskId), InvalidValueError, taskId);
  }
  assert.equal(port.used, 0, "no Redis call was made");
});

Deno.test("claimTask() accepts the TTL bounds: 1 ms and exactly 24h", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    const max = await claimTask(room, { taskId: id, agent: alice, ttlMs: MAX_CLAIM_TTL_MS });
    assert.equal(max.outcome, "claimed");
    const pttl = await redis.call(["PTTL", room.keys.taskOwner(id)]) as number;
    assert.ok(pttl > MAX_CLAIM_TTL_MS - 60_000 && pttl <= MAX_CLAIM_TTL_MS, `pttl ${pttl}`);
    const other = await publishTask(room);
    assert.equal(
      (await claimTask(room, { taskId: other, agent: alice, ttlMs: 1 })).outcome,
      "claimed",
    );
  });
});

Deno.test("completeTask(): anyone may complete (previous owner reported); strict refuses", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const [t1, t2, t3, t4] = [
      await publishTask(room),
      await publishTask(room),
      await publishTask(room),
      await publishTask(room),
    ] as [string, string, string, string];

    // non-owner, not strict: completes and names the owner it took over from
    await claimTask(room, { taskId: t1, agent: alice });
    const taken = await completeTask(room, { taskId: t1, agent: bob, result: "reviewed" });
    assert.equal(taken.outcome, "completed");
    assert.ok(taken.outcome === "completed" && taken.previousOwner === alice.agent_id);
    assert.deepEqual(await completeTask(room, { taskId: t1, agent: alice }), { outcome: "done" });
    assert.deepEqual(await completeTask(room, { taskId: t1, agent: bob, strict: true }), {
      outcome: "done",
    });

    // unclaimed, not strict: completes with no previous owner
    const free = await completeTask(room, { taskId: t2, agent: carol });
    assert.ok(free.outcome === "completed" && free.previousOwner === "");

    // strict: nobody holds it → not_claimed; someone else → not_owner; the owner → completed
    assert.deepEqual(await completeTask(room, { taskId: t3, agent: bob, strict: true }), {
      outcome: "not_claimed",
    });
    await claimTask(room, { taskId: t3, agent: alice });
    assert.deepEqual(await completeTask(room, { taskId: t3, agent: bob, strict: true }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    assert.equal((await taskState(room, t3))?.state, "claimed", "a refusal changes nothing");
    const own = await completeTask(room, {
      taskId: t3,
      agent: alice,
      strict: true,
      result: { pr: 42 },
    });
    assert.ok(own.outcome === "completed" && own.previousOwner === alice.agent_id);
    assert.deepEqual(await taskState(room, t3).then((s) => s?.state === "done" && s.result), {
      pr: 42,
    });

    // unknown id, non-task event, oversized result
    assert.deepEqual(await completeTask(room, { taskId: "1-0", agent: alice }), {
      outcome: "unknown",
    });
    const note = await room.publish({ type: "NOTE", agent: alice });
    assert.deepEqual(await completeTask(room, { taskId: note.id, agent: alice }), {
      outcome: "not_task",
      type: "NOTE",
    });
    await assert.rejects(
      completeTask(room, { taskId: t4, agent: alice, result: "x".repeat(17_000) }),
      InvalidValueError,
    );
    assert.equal((await taskState(room, t4))?.state, "open");
  });
});

Deno.test("completeTask(): a late owner whose lapsed lease was re-claimed gets the new holder, or a strict refusal", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const loose = await publishTask(room);
    const strict = await publishTask(room);
    for (const id of [loose, strict]) {
      assert.equal(
        (await claimTask(room, { taskId: id, agent: alice, ttlMs: 50 })).outcome,
        "claimed",
      );
    }
    await lapsed(room, loose);
    await lapsed(room, strict);
    for (const id of [loose, strict]) {
      assert.equal((await claimTask(room, { taskId: id, agent: bob })).outcome, "claimed");
    }
    const late = await completeTask(room, { taskId: loose, agent: alice });
    assert.deepEqual(late.outcome === "completed" && late.previousOwner, bob.agent_id);
    assert.deepEqual(await completeTask(room, { taskId: strict, agent: alice, strict: true }), {
      outcome: "not_owner",
      owner: bob.agent_id,
    });
    const s = await taskState(room, strict);
    assert.ok(s?.state === "claimed" && s.owner === bob.agent_id);
  });
});

Deno.test("releaseTask(): owner only; not_held when unclaimed or lapsed", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    assert.deepEqual(await releaseTask(room, { taskId: id, agent: alice }), {
      outcome: "not_held",
    });
    await claimTask(room, { taskId: id, agent: alice });
    assert.deepEqual(await releaseTask(room, { taskId: id, agent: bob }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    assert.equal(await redis.call(["GET", room.keys.taskOwner(id)]), alice.agent_id);
    const released = await releaseTask(room, { taskId: id, agent: alice });
    assert.equal(released.outcome, "released");
    assert.equal(await redis.call(["EXISTS", room.keys.taskOwner(id)]), 0);
    assert.equal(await redis.call(["ZSCORE", room.keys.claims, id]), null);
    assert.deepEqual(await openIds(room), [id]);
    assert.deepEqual(await releaseTask(room, { taskId: id, agent: alice }), {
      outcome: "not_held",
    });
    // bob can take it now; after his lease lapses there is nothing to release
    await claimTask(room, { taskId: id, agent: bob, ttlMs: 40 });
    await lapsed(room, id);
    assert.deepEqual(await releaseTask(room, { taskId: id, agent: bob }), { outcome: "not_held" });
  });
});

Deno.test("taskState(): open, claimed (owner, TTL left), done (result), undefined", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room, "FIX", { test: "auth" });
    const open = await taskState(room, id);
    assert.equal(open?.state, "open");
    assert.deepEqual(open?.task?.payload, { test: "auth" });
    await claimTask(room, { taskId: id, agent: alice, ttlMs: 90_000 });
    const claimed = await taskState(room, id);
    assert.ok(claimed?.state === "claimed");
    assert.equal(claimed.owner, alice.agent_id);
    assert.ok(claimed.ttlMs > 80_000 && claimed.ttlMs <= 90_000, `ttl ${claimed.ttlMs}`);
    assert.equal(claimed.task.id, id);
    await completeTask(room, { taskId: id, agent: alice, result: { commit: "a1b2c3" } });
    const done = await taskState(room, id);
    assert.ok(done?.state === "done");
    assert.deepEqual(done.result, { commit: "a1b2c3" });
    assert.equal(done.task?.id, id);
    const bare = await publishTask(room);
    await completeTask(room, { taskId: bare, agent: alice });
    assert.deepEqual(
      await taskState(room, bare).then((s) => s?.state === "done" && s.result),
      null,
    );

    assert.equal(await taskState(room, "1-0"), undefined);
    const note = await room.publish({ type: "NOTE", agent: alice });
    assert.equal(await taskState(room, note.id), undefined);
  });
});

Deno.test("claimLoad(): live claims per agent; lapsed, released and done claims drop out", async () => {
  await withRoom(async (room, redis) => {
    assert.deepEqual(await claimLoad(room), new Map());
    await registerTask(room, { type: "FIX", description: "fix" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await publishTask(room));
    await claimTask(room, { taskId: ids[0]!, agent: alice });
    await claimTask(room, { taskId: ids[1]!, agent: alice });
    await claimTask(room, { taskId: ids[2]!, agent: bob });
    await claimTask(room, { taskId: ids[3]!, agent: bob, ttlMs: 50 });
    await claimTask(room, { taskId: ids[4]!, agent: carol });
    assert.deepEqual(
      await claimLoad(room),
      new Map([[alice.agent_id, 2], [bob.agent_id, 2], [carol.agent_id, 1]]),
    );
    await lapsed(room, ids[3]!);
    await releaseTask(room, { taskId: ids[1]!, agent: alice });
    await completeTask(room, { taskId: ids[4]!, agent: alice });
    // the claims index holds the lapsed entry until its lapse notice is written
    assert.equal(await redis.call(["ZSCORE", room.keys.claims, ids[3]!]) !== null, true);
    assert.deepEqual(await claimLoad(room), new Map([[alice.agent_id, 1], [bob.agent_id, 1]]));
    assert.equal(await redis.call(["ZCARD", room.keys.claims]), 3);
    assert.equal((await sweepLapses(room)).notices, 1);
    assert.equal(await redis.call(["ZCARD", room.keys.claims]), 2);
    assert.equal((await room.recent(1))[0]!.type, "CLAIM_LAPSED");
  });
});

Deno.test("claim, release, claim, done write TASK_* audit events with agent and server time", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    const before = await room.serverTime();
    const c1 = await claimTask(room, { taskId: id, agent: alice, ttlMs: 60_000 });
    const r = await releaseTask(room, { taskId: id, agent: alice });
    const c2 = await claimTask(room, { taskId: id, agent: bob, ttlMs: 30_000 });
    const d = await completeTask(room, { taskId: id, agent: carol, result: { ok: 1 } });
    const after = await room.serverTime();
    assert.ok(c1.outcome === "claimed" && c2.outcome === "claimed");
    assert.ok(r.outcome === "released" && d.outcome === "completed");
    const audit = await room.recent(4);
    assert.deepEqual(audit.map((e) => e.id), [c1.auditId, r.auditId, c2.auditId, d.auditId]);
    const summary = (
      e: RoomEvent,
    ) => [e.type, e.agent_id, e.agent_handle, e.session_id, e.reply_to];
    assert.deepEqual(audit.map(summary), [
      ["TASK_CLAIMED", alice.agent_id, "alice", "aaaa1111", id],
      ["TASK_RELEASED", alice.agent_id, "alice", "aaaa1111", id],
      ["TASK_CLAIMED", bob.agent_id, "bob", "bbbb2222", id],
      ["TASK_DONE", carol.agent_id, "carol", "cccc3333", id],
    ]);
    assert.deepEqual(audit.map((e) => e.payload), [
      { task_id: id, task_type: "FIX", ttl_ms: 60_000, forced: false, renewed: false },
      { task_id: id },
      { task_id: id, task_type: "FIX", ttl_ms: 30_000, forced: false, renewed: false },
      { task_id: id, task_type: "FIX", owner: bob.agent_id, result: { ok: 1 } },
    ]);
    let last = before;
    for (const e of audit) {
      assert.ok(e.timestamp >= last && e.timestamp <= after, `${e.type} at ${e.timestamp}`);
      last = e.timestamp;
    }
    // audit types are recorded as seen, so they can serve as prerequisites
    const seen = await redis.call(["HGET", room.keys.typesSeen, "TASK_DONE"]);
    assert.equal(seen, d.auditId);
  });
});

Deno.test("a renewal is audited as renewed", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    await claimTask(room, { taskId: id, agent: alice });
    const renewed = await claimTask(room, { taskId: id, agent: alice, ttlMs: 1_000 });
    assert.equal(renewed.outcome, "renewed");
    const [audit] = await room.recent(1);
    assert.equal(audit?.type, "TASK_CLAIMED");
    assert.deepEqual((audit?.payload as { renewed: boolean }).renewed, true);
  });
});

Deno.test("a claim re-won after a lapse is audited no earlier than the previous claim + TTL", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    const first = await claimTask(room, { taskId: id, agent: alice, ttlMs: 40 });
    await lapsed(room, id);
    const second = await claimTask(room, { taskId: id, agent: bob, ttlMs: 40 });
    assert.ok(first.outcome === "claimed" && second.outcome === "claimed");
    const recent = await room.recent(3);
    // the second claim observed the lapse first: it wrote the one CLAIM_LAPSED notice
    assert.deepEqual(recent.map((e) => e.type), ["TASK_CLAIMED", "CLAIM_LAPSED", "TASK_CLAIMED"]);
    assert.equal(recent[1]!.to, alice.agent_id);
    const audit = recent.filter((e) => e.type === "TASK_CLAIMED");
    assert.deepEqual(audit.map((e) => e.agent_id), [alice.agent_id, bob.agent_id]);
    assert.ok(audit[1]!.timestamp >= audit[0]!.timestamp + 40);
    assert.ok(audit[1]!.timestamp >= first.expiresAt);
  });
});

Deno.test("claim, complete and release fail atomically when the room stream has the wrong type", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = "1763700000000-0";
    await redis.call(["SET", room.keys.events, "not a stream"]);
    await assert.rejects(claimTask(room, { taskId: id, agent: alice }), RedisCommandError);
    await assert.rejects(completeTask(room, { taskId: id, agent: alice }), RedisCommandError);
    await redis.call(["SET", room.keys.taskOwner(id), alice.agent_id]);
    await assert.rejects(releaseTask(room, { taskId: id, agent: alice }), RedisCommandError);
    assert.equal(await redis.call(["GET", room.keys.taskOwner(id)]), alice.agent_id, "kept");
    await redis.call(["DEL", room.keys.taskOwner(id)]);
    assert.equal(await redis.call(["EXISTS", room.keys.done]), 0);
    assert.equal(await redis.call(["EXISTS", room.keys.claims]), 0);
    assert.equal(await redis.call(["GET", room.keys.events]), "not a stream");
  });
});

for (const index of ["typesSeen", "claims", "openTasks", "done", "catalog"] as const) {
  Deno.test(`claim, complete and release write nothing when ${index} has the wrong type`, async () => {
    await withRoom(async (room, redis) => {
      await registerTask(room, { type: "FIX", description: "fix" });
      const id = await publishTask(room);
      const held = await publishTask(room);
      await claimTask(room, { taskId: held, agent: alice });
      const length = await redis.call(["XLEN", room.keys.events]);
      await redis.call(["DEL", room.keys[index]]);
      await redis.call(["SET", room.keys[index], "wrong type"]);
      const outcomes = [
        await claimTask(room, { taskId: id, agent: bob }).then((r) => r.outcome, (e) => e),
        await completeTask(room, { taskId: id, agent: bob }).then((r) => r.outcome, (e) => e),
        await completeTask(room, { taskId: held, agent: bob }).then((r) => r.outcome, (e) => e),
        await releaseTask(room, { taskId: held, agent: alice }).then((r) => r.outcome, (e) => e),
      ];
      // every script checks all core keys before its first write
      for (const [i, outcome] of outcomes.entries()) {
        assert.ok(outcome instanceof RedisCommandError, `#${i}`);
      }
      if (index !== "claims") {
        // a core key: publish checks it too and writes nothing
        await assert.rejects(room.publish({ type: "FIX", agent: bob }), RedisCommandError);
      }
      assert.equal(await redis.call(["EXISTS", room.keys.taskOwner(id)]), 0);
      assert.equal(await redis.call(["GET", room.keys.taskOwner(held)]), alice.agent_id);
      assert.equal(await redis.call(["XLEN", room.keys.events]), length, "no event written");
      if (index !== "done") assert.equal(await redis.call(["EXISTS", room.keys.done]), 0);
      assert.equal(await redis.call(["GET", room.keys[index]]), "wrong type");
    });
  });
}

Deno.test("a done task stays done while the room is busy, past the idle TTL", async () => {
  const ttl = 60_000;
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room);
    const done = await completeTask(room, { taskId: id, agent: alice });
    assert.equal(done.outcome, "completed");
    // the room sat idle for most of its TTL: every core key has 1 s left
    const keys = [];
    for (const key of room.keys.core) {
      if (await redis.call(["PEXPIRE", key, 1_000]) === 1) keys.push(key);
    }
    assert.ok(keys.includes(room.keys.done), "the done set has a TTL");
    // one event (the room is busy) re-arms every core key to the full idle TTL
    await room.publish({ type: "NOTE", agent: bob });
    for (const key of keys) {
      const left = await redis.call(["PTTL", key]) as number;
      assert.ok(left > 1_000 && left <= ttl, `${key} re-armed: pttl ${left}`);
    }
    assert.equal((await taskState(room, id))?.state, "done");
    assert.equal((await claimTask(room, { taskId: id, agent: bob })).outcome, "done");
  }, { tunables: { streamTtlMs: ttl } });
});

Deno.test("claims: another handle of the owner's session renews and may complete strictly; others may not", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix" });
    const id = await publishTask(room, "FIX", 1);
    const helper = resolveIdentity("alice-helper", alice.session_id);
    assert.equal((await claimTask(room, { taskId: id, agent: alice })).outcome, "claimed");
    // a subagent of alice's session: its own session's claim is no conflict
    assert.equal((await claimTask(room, { taskId: id, agent: helper })).outcome, "renewed");
    const held = await claimTask(room, { taskId: id, agent: bob });
    assert.equal(held.outcome, "held");
    assert.equal(held.outcome === "held" && held.owner, helper.agent_id);
    assert.equal(
      (await completeTask(room, { taskId: id, agent: bob, strict: true })).outcome,
      "not_owner",
    );
    assert.equal(
      (await completeTask(room, { taskId: id, agent: alice, strict: true })).outcome,
      "completed",
    );
  });
});
