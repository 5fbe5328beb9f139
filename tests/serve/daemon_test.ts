import assert from "node:assert/strict";
import type { ArchivedStream } from "../../src/archiver.ts";
import type { RoomEvent } from "../../src/codec.ts";
import { roomConfig } from "../../src/config.ts";
import { listDeadLetters } from "../../src/groups.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { DAEMON_LOCK_KEY, runDaemon, sweepStalled } from "../../src/serve/daemon.ts";
import { agent } from "../support/cli.ts";
import { until } from "../support/poll.ts";
import { startRedis, uniqueRepo, withRedis } from "../support/redis.ts";

const me = resolveIdentity("d", "s1");

Deno.test("daemon: one per Redis (the second waits for the lock), archives at once, releases on shutdown", async () => {
  const server = await startRedis();
  try {
    await withRedis(server.url, async (redis) => {
      const room = new Room(redis, roomConfig({ repo: uniqueRepo(), branch: "main" }));
      for (let i = 0; i < 8; i++) await room.publish({ type: "NOTE", agent: me, payload: i });
      const archived: string[] = [];
      const persist = (_s: ArchivedStream, events: RoomEvent[]) => {
        archived.push(...events.map((e) => e.id));
        return Promise.resolve();
      };
      const logA: string[] = [];
      const logB: string[] = [];
      const stopA = new AbortController();
      const stopB = new AbortController();
      const common = { persist, threshold: 5, keepRecent: 2, lockTtlMs: 300, stallIntervalMs: 100 };
      const a = runDaemon({ ...common, redis, name: "A", log: (l) => logA.push(l) }, stopA.signal);
      await until("A archived", () => Promise.resolve(archived.length === 6));
      await withRedis(server.url, async (redisB) => {
        const b = runDaemon(
          { ...common, redis: redisB, name: "B", log: (l) => logB.push(l) },
          stopB.signal,
        );
        await until(
          "B waits",
          () => Promise.resolve(logB.some((l) => /\(A\) holds the lock; waiting/.test(l))),
        );
        assert.equal(await redis.call(["GET", DAEMON_LOCK_KEY]), "A");
        stopA.abort();
        await a;
        await until("B took over", () => Promise.resolve(logB.includes("B holds the lock")));
        stopB.abort();
        await b;
      });
      assert.equal(await redis.call(["EXISTS", DAEMON_LOCK_KEY]), 0, "released");
      assert.ok(logA.includes("A stopped"));
      assert.equal(await redis.call(["XLEN", room.keys.events]), 2);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("daemon: a poison event delivered too often is moved to the dead-letter stream", async () => {
  const server = await startRedis();
  try {
    await withRedis(server.url, async (redis) => {
      const room = new Room(redis, roomConfig({ repo: uniqueRepo(), branch: "main" }));
      await redis.call(["XGROUP", "CREATE", room.keys.events, "g", "$", "MKSTREAM"]);
      const poison = await room.publish({ type: "POISON", agent: me, payload: null });
      const healthy = await room.publish({ type: "OK", agent: me, payload: null });
      await redis.call(["XREADGROUP", "GROUP", "g", "c1", "STREAMS", room.keys.events, ">"]);
      // Two more deliveries of the poison event (its consumers kept dying).
      for (const c of ["c2", "c3"]) {
        await redis.call(["XCLAIM", room.keys.events, "g", c, 0, poison.id]);
      }
      await new Promise((r) => setTimeout(r, 5));
      const swept = await sweepStalled(redis, { idleMs: 1, maxDeliveries: 3 });
      assert.deepEqual(swept.deadLettered.map((d) => d.id), [poison.id]);
      const [letter] = await listDeadLetters(room, "g");
      assert.equal(letter?.event.id, poison.id);
      assert.match(letter?.error ?? "", /delivered 3 times without completing/);
      const pending = await redis.call([
        "XPENDING",
        room.keys.events,
        "g",
        "-",
        "+",
        10,
      ]) as string[][];
      assert.deepEqual(pending.map((p) => p[0]), [healthy.id]);
      // Idle consumers with nothing pending are removed; c1 still holds the healthy event.
      assert.deepEqual(swept.pruned.map((p) => p.consumer), []);
      await new Promise((r) => setTimeout(r, 5));
      const pruned = await sweepStalled(redis, { idleMs: 1, maxDeliveries: 3, pruneIdleMs: 1 });
      assert.deepEqual(pruned.pruned.map((p) => p.consumer).sort(), ["c2", "c3"]);
      const left = await redis.call(["XINFO", "CONSUMERS", room.keys.events, "g"]) as string[][];
      assert.deepEqual(left.map((c) => c[1]), ["c1"]);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("daemon command: runs until interrupted; bad input is one error line", async () => {
  const server = await startRedis();
  const dir = await Deno.makeTempDir();
  try {
    const a = agent(uniqueRepo(), "dmn1");
    const env = { AGENTROOM_REDIS_URL: server.url };
    const running = a.start(["daemon", "--dir", dir, "--stall-every", "100ms"], { env });
    await until(
      "lock taken",
      () => withRedis(server.url, async (r) => await r.call(["EXISTS", DAEMON_LOCK_KEY]) === 1),
    );
    running.interrupt();
    const r = await running.done();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^daemon: archiving into /m);
    assert.match(r.stderr, /^daemon: archive sweep: 0 events from 0 of \d+ streams$/m);
    assert.match(r.stderr, /^daemon: daemon-\S+ stopped$/m);
    const cases: [string[], RegExp][] = [
      [["daemon", "x"], /too many arguments: daemon takes no arguments/],
      [
        ["daemon", "--archive-every", "1ms"],
        /--archive-every must be a duration between 100ms and 7d/,
      ],
      [["daemon", "--stall-idle", "soon"], /--stall-idle must be a duration/],
      [["daemon", "--threshold", "0"], /--threshold must be at least 1/],
      [["daemon", "--max-deliveries", "0"], /--max-deliveries must be at least 1/],
      [["daemon", "--no-archive", "--gzip"], /--no-archive excludes --dir and --gzip/],
    ];
    for (const [args, pattern] of cases) {
      const bad = await a.run(args, { env });
      assert.equal(bad.code, 2, `${args.join(" ")}: ${bad.stderr}`);
      assert.match(bad.stderr, pattern);
      assert.equal(bad.stderr.trim().split("\n").length, 1);
    }
    await withRedis(server.url, async (r) => assert.equal(await r.call(["DBSIZE"]), 0));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
