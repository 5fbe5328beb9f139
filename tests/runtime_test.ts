import assert from "node:assert/strict";
import type { RoomEvent } from "../src/codec.ts";
import { resolveIdentity } from "../src/identity.ts";
import type { RedisPort } from "../src/redis/port.ts";
import { Room } from "../src/room.ts";
import { dropDeadLetter, listDeadLetters, listGroups, retryDeadLetter } from "../src/groups.ts";
import { ENGINE_RUNTIME_ERROR, Runtime, type RuntimeFailure, type Worker } from "../src/runtime.ts";
import { connectRedis } from "../src/redis/connect.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { until } from "./support/poll.ts";
import { shared } from "./support/redis.ts";
import { withRoom } from "./support/room.ts";

const agent = resolveIdentity("producer", "s1");

function recorder(interests: string[], fail?: (e: RoomEvent) => boolean) {
  const seen: string[] = [];
  const worker: Worker = {
    id: "rec",
    interests,
    execute(event) {
      seen.push(event.id);
      if (fail?.(event)) throw new Error(`boom on ${event.type}`);
    },
  };
  return { worker, seen };
}

async function publishN(room: Room, n: number, type = "JOB"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await room.publish({ type, agent, payload: i })).id);
  return ids;
}

async function pendingCount(room: Room, group: string): Promise<number> {
  const reply = await room.redis.call(["XPENDING", room.keys.events, group]) as unknown[];
  return Number(reply[0]);
}

Deno.test("Runtime: events published while the worker is down arrive on start; others are acked unexecuted", async () => {
  await withRoom(async (room) => {
    const { worker, seen } = recorder(["JOB"]);
    const rt = new Runtime(room, worker, { blockMs: 50, minIdleMs: 1000 });
    assert.equal(await rt.ensureGroup(), true);
    assert.equal(await rt.ensureGroup(), false);
    const ids = await publishN(room, 5);
    await room.publish({ type: "OTHER", agent, payload: null });
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("five executed", () => Promise.resolve(seen.length >= 5));
    await until("nothing pending", async () => await pendingCount(room, "rec") === 0);
    stop.abort();
    await done;
    assert.deepEqual(seen, ids);
  });
});

Deno.test("Runtime: a restarted consumer drains its own pending entries first", async () => {
  await withRoom(async (room) => {
    const { worker, seen } = recorder(["*"]);
    const rt = new Runtime(room, worker, { consumer: "c1", blockMs: 50, minIdleMs: 60_000 });
    await rt.ensureGroup();
    const ids = await publishN(room, 3);
    // c1 read them and died before acking.
    await room.redis.call([
      "XREADGROUP",
      "GROUP",
      "rec",
      "c1",
      "COUNT",
      10,
      "STREAMS",
      room.keys.events,
      ">",
    ]);
    const later = await publishN(room, 1);
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("four executed", () => Promise.resolve(seen.length >= 4));
    stop.abort();
    await done;
    assert.deepEqual(seen, [...ids, ...later]);
    assert.equal(await pendingCount(room, "rec"), 0);
  });
});

Deno.test("Runtime: a second instance reclaims a dead consumer's entries after min-idle", async () => {
  await withRoom(async (room) => {
    const { worker, seen } = recorder(["*"]);
    const reclaimed: string[] = [];
    const rt = new Runtime(room, worker, {
      consumer: "alive",
      blockMs: 50,
      minIdleMs: 150,
      onReclaim: (ids) => reclaimed.push(...ids),
    });
    await rt.ensureGroup();
    const ids = await publishN(room, 4);
    await room.redis.call([
      "XREADGROUP",
      "GROUP",
      "rec",
      "dead",
      "COUNT",
      10,
      "STREAMS",
      room.keys.events,
      ">",
    ]);
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("reclaimed and executed", () => Promise.resolve(seen.length >= 4));
    await until("nothing pending", async () => await pendingCount(room, "rec") === 0);
    stop.abort();
    await done;
    assert.deepEqual(seen.toSorted(), ids.toSorted());
    assert.deepEqual(reclaimed.toSorted(), ids.toSorted());
  });
});

Deno.test("Runtime: the sweep follows the XAUTOCLAIM cursor past its COUNT", async () => {
  await withRoom(async (room) => {
    const { worker, seen } = recorder(["*"]);
    const rt = new Runtime(room, worker, { consumer: "sweeper", minIdleMs: 1, sweepCount: 2 });
    await rt.ensureGroup();
    const ids = await publishN(room, 7);
    await room.redis.call([
      "XREADGROUP",
      "GROUP",
      "rec",
      "dead",
      "STREAMS",
      room.keys.events,
      ">",
    ]);
    await new Promise((r) => setTimeout(r, 5));
    const claimed = await rt.sweep();
    assert.deepEqual(claimed, ids);
    await until("all executed", () => Promise.resolve(seen.length >= 7));
  });
});

Deno.test("Runtime: only the holder of the sweep lock sweeps", async () => {
  await withRoom(async (room) => {
    const { worker } = recorder(["*"]);
    const rt = new Runtime(room, worker, { consumer: "b", minIdleMs: 1 });
    await rt.ensureGroup();
    await publishN(room, 2);
    await room.redis.call(["XREADGROUP", "GROUP", "rec", "dead", "STREAMS", room.keys.events, ">"]);
    await room.redis.call(["SET", room.keys.sweepLock("rec"), "a", "PX", 60_000]);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await rt.sweep(), []);
    assert.equal(await pendingCount(room, "rec"), 2);
  });
});

Deno.test("Runtime: a receipt prevents re-execution after a failed ack", async () => {
  await withRoom(async (room, redis) => {
    let failAcks = 1;
    const flaky: RedisPort = {
      ...redis,
      address: redis.address,
      call: (args, options) => {
        if (args[0] === "XACK" && failAcks > 0) {
          failAcks--;
          return Promise.reject(new Error("injected ack failure"));
        }
        return redis.call(args, options);
      },
      callBytes: (a, o) => redis.callBytes(a, o),
      pipeline: async (commands, o) => {
        const ack = commands.findIndex((c) => c[0] === "XACK");
        if (ack === -1 || failAcks === 0) return await redis.pipeline(commands, o);
        failAcks--;
        const replies = await redis.pipeline(commands.filter((_, i) => i !== ack), o);
        replies.splice(ack, 0, new Error("injected ack failure"));
        return replies;
      },
      evalScript: (s, k, a, o) => redis.evalScript(s, k, a, o),
      close: () => redis.close(),
    };
    const flakyRoom = new Room(flaky, room.config);
    const { worker, seen } = recorder(["JOB"]);
    const failures: RuntimeFailure[] = [];
    const rt = new Runtime(flakyRoom, worker, {
      blockMs: 50,
      minIdleMs: 100,
      onError: (f) => failures.push(f),
    });
    await rt.ensureGroup();
    const [id] = await publishN(room, 1);
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("ack failed", () => Promise.resolve(failures.some((f) => f.op === "ack")));
    await until("reclaimed and acked", async () => await pendingCount(room, "rec") === 0);
    stop.abort();
    await done;
    assert.deepEqual(seen, [id]);
    assert.equal(await redis.call(["EXISTS", room.keys.receipt("rec", id!)]), 1);
    const ttl = await redis.call(["PTTL", room.keys.receipt("rec", id!)]) as number;
    assert.ok(ttl > 0, "the receipt expires");
  });
});

Deno.test("Runtime: a poison event is retried up to the cap, then dead-lettered; errors do not loop", async () => {
  await withRoom(async (room) => {
    const { worker, seen } = recorder(["*"], (e) => e.type === "POISON");
    const dead: string[] = [];
    const rt = new Runtime(room, worker, {
      blockMs: 50,
      minIdleMs: 60,
      maxAttempts: 3,
      onDeadLetter: (_e, deadId) => dead.push(deadId),
    });
    await rt.ensureGroup();
    const poison = await room.publish({ type: "POISON", agent, payload: { x: 1 } });
    const fine = await room.publish({ type: "FINE", agent, payload: null });
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("dead-lettered", () => Promise.resolve(dead.length === 1));
    await until("nothing pending", async () => await pendingCount(room, "rec") === 0);
    // Give a looping runtime the chance to show itself.
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    await done;
    assert.deepEqual(seen, [poison.id, fine.id, poison.id, poison.id]);
    const errors = (await room.recent(50)).filter((e) => e.type === ENGINE_RUNTIME_ERROR);
    assert.equal(errors.length, 3);
    const last = errors.at(-1)!.payload as Record<string, unknown>;
    assert.equal(last.event_id, poison.id);
    assert.equal(last.attempt, 3);
    assert.equal(last.dead_letter, dead[0]);
    assert.deepEqual(last.error, { name: "Error", message: "boom on POISON" });
    const letters = await room.redis.call(["XRANGE", room.keys.deadLetters("rec"), "-", "+"]);
    assert.equal((letters as unknown[]).length, 1);
    const fields = (letters as [string, string[]][])[0]![1];
    assert.equal(fields[fields.indexOf("dead_id") + 1], poison.id);
    assert.equal(fields[fields.indexOf("type") + 1], "POISON");
  });
});

Deno.test("Runtime: abort returns promptly and hands the signal to in-flight executes", async () => {
  await withRoom(async (room) => {
    let sawAbort = false;
    const worker: Worker = {
      id: "slow",
      interests: ["*"],
      execute: (_e, _r, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve();
          });
        }),
    };
    let started = false;
    const reader = await connectRedis(parseRedisUrl(shared.url));
    const rt = new Runtime(room, {
      ...worker,
      execute: (e, r, s) => {
        started = true;
        return worker.execute(e, r, s);
      },
    }, { blockMs: 60_000, minIdleMs: 60_000, reader });
    await rt.ensureGroup();
    await publishN(room, 1);
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("started", () => Promise.resolve(started));
    stop.abort();
    await done; // a 60 s block would time the test out
    await reader.close();
    assert.equal(sawAbort, true);
    assert.equal(await pendingCount(room, "slow"), 1, "an aborted attempt stays pending");
  });
});

Deno.test("Runtime: bad options are rejected", async () => {
  await withRoom((room) => {
    const { worker } = recorder(["*"]);
    assert.throws(() => new Runtime(room, { ...worker, interests: [] }), /no interests/);
    assert.throws(() => new Runtime(room, worker, { concurrency: 0 }), /concurrency/);
    assert.throws(() => new Runtime(room, worker, { group: "" }), /non-empty/);
    return Promise.resolve();
  });
});

Deno.test("groups and dead letters: list, retry, drop", async () => {
  await withRoom(async (room) => {
    assert.deepEqual(await listGroups(room), []);
    const { worker, seen } = recorder(["*"], (e) => e.type === "POISON");
    const rt = new Runtime(room, worker, {
      consumer: "c1",
      blockMs: 50,
      minIdleMs: 30,
      maxAttempts: 1,
    });
    await rt.ensureGroup();
    const poison = await room.publish({ type: "POISON", agent, payload: { n: 1 } });
    const stop = new AbortController();
    const done = rt.listen(stop.signal);
    await until("dead-lettered", async () => (await listDeadLetters(room, "rec")).length === 1);
    stop.abort();
    await done;
    const [group] = await listGroups(room);
    assert.equal(group?.name, "rec");
    assert.equal(group?.pending, 0);
    assert.equal(group?.deadLetters, 1);
    assert.deepEqual(group?.consumers.map((c) => c.name), ["c1"]);
    const [letter] = await listDeadLetters(room, "rec");
    assert.equal(letter?.event.id, poison.id);
    assert.deepEqual(letter?.event.payload, { n: 1 });
    assert.equal(letter?.attempts, 1);
    assert.match(letter?.error ?? "", /boom on POISON/);
    const retried = await retryDeadLetter(room, "rec", letter!.deadId);
    assert.ok(retried !== undefined && retried !== poison.id);
    const again = await room.eventById(retried!);
    assert.equal(again?.type, "POISON");
    assert.deepEqual(again?.payload, { n: 1 });
    assert.equal(await retryDeadLetter(room, "rec", letter!.deadId), undefined);
    assert.deepEqual(await listDeadLetters(room, "rec"), []);
    // Dead-letter it again, then drop it.
    const done2 = new Runtime(room, worker, { consumer: "c1", blockMs: 50, maxAttempts: 1 });
    const stop2 = new AbortController();
    const running = done2.listen(stop2.signal);
    await until("dead again", async () => (await listDeadLetters(room, "rec")).length === 1);
    stop2.abort();
    await running;
    assert.equal(seen.filter((id) => id === retried).length, 1);
    const [second] = await listDeadLetters(room, "rec");
    assert.equal(await dropDeadLetter(room, "rec", second!.deadId), true);
    assert.equal(await dropDeadLetter(room, "rec", second!.deadId), false);
  });
});
