import assert from "node:assert/strict";
import { fileSink, readArchive } from "../src/archive_files.ts";
import { type ArchivedStream, sweepArchive, sweepStream } from "../src/archiver.ts";
import type { RoomEvent } from "../src/codec.ts";
import { resolveIdentity } from "../src/identity.ts";
import type { Room } from "../src/room.ts";
import { Runtime } from "../src/runtime.ts";
import { registerTask } from "../src/tasks.ts";
import { withRoom } from "./support/room.ts";

const agent = resolveIdentity("arch", "s1");

async function publishN(room: Room, n: number, type = "NOTE"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await room.publish({ type, agent, payload: i })).id);
  return ids;
}

function streamOf(room: Room): ArchivedStream {
  return { key: room.keys.events, room: room.keys.prefix.slice(4, -1) };
}

async function streamIds(room: Room): Promise<string[]> {
  return (await room.since("0-0", 100_000)).map((e) => e.id);
}

Deno.test("archiver: below threshold untouched; above it, old entries persisted then deleted, recent kept", async () => {
  await withRoom(async (room) => {
    const ids = await publishN(room, 30);
    const batches: RoomEvent[][] = [];
    const persist = (_s: ArchivedStream, events: RoomEvent[]) => {
      batches.push(events);
      return Promise.resolve();
    };
    const below = await sweepStream(room.redis, streamOf(room), persist, { threshold: 31 });
    assert.equal(below.reason, "below-threshold");
    assert.equal(batches.length, 0);
    assert.deepEqual(await streamIds(room), ids);
    const dry = await sweepStream(room.redis, streamOf(room), persist, {
      threshold: 10,
      keepRecent: 5,
      dryRun: true,
    });
    assert.equal(dry.archived, 25);
    assert.equal(batches.length, 0);
    assert.deepEqual(await streamIds(room), ids);
    const swept = await sweepStream(room.redis, streamOf(room), persist, {
      threshold: 10,
      keepRecent: 5,
      batchSize: 7,
    });
    assert.equal(swept.archived, 25);
    assert.deepEqual(batches.map((b) => b.length), [7, 7, 7, 4]);
    assert.deepEqual(batches.flat().map((e) => e.id), ids.slice(0, 25));
    assert.deepEqual(await streamIds(room), ids.slice(25));
  });
});

Deno.test("archiver: a late append during persist survives; XDEL removes only archived ids", async () => {
  await withRoom(async (room) => {
    const ids = await publishN(room, 10);
    let late: string | undefined;
    const persist = async () => {
      late ??= (await room.publish({ type: "LATE", agent, payload: null })).id;
    };
    await sweepStream(room.redis, streamOf(room), persist, { threshold: 1, keepRecent: 0 });
    assert.deepEqual(await streamIds(room), [late]);
    assert.ok(!ids.includes(late!));
  });
});

Deno.test("archiver: open tasks, young ASKs and group-pending or undelivered entries are kept", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix it" });
    const task = await room.publish({ type: "FIX", agent, payload: null });
    const ask = await room.publish({ type: "ASK", agent, payload: "?", to: "x" });
    const worker = new Runtime(room, { id: "g", interests: ["*"], execute() {} });
    await worker.ensureGroup();
    const delivered = await publishN(room, 3);
    await room.redis.call([
      "XREADGROUP",
      "GROUP",
      "g",
      "c",
      "COUNT",
      2,
      "STREAMS",
      room.keys.events,
      ">",
    ]);
    await room.redis.call(["XACK", room.keys.events, "g", delivered[0]!]);
    const undelivered = await publishN(room, 2);
    const archived: string[] = [];
    await sweepStream(room.redis, streamOf(room), (_s, events) => {
      archived.push(...events.map((e) => e.id));
      return Promise.resolve();
    }, { threshold: 1, keepRecent: 0 });
    // delivered[0] was acked: archivable; delivered[1] is pending; delivered[2] and later undelivered.
    assert.deepEqual(archived, [delivered[0]]);
    assert.deepEqual(await streamIds(room), [
      task.id,
      ask.id,
      delivered[1],
      delivered[2],
      ...undelivered,
    ]);
  });
});

Deno.test("archiver: file sink round-trip (plain and gzip), crash between persist and delete leaves no gap", async () => {
  for (const gzip of [false, true]) {
    await withRoom(async (room) => {
      const dir = await Deno.makeTempDir();
      const ids = await publishN(room, 20);
      const sink = fileSink(dir, { gzip });
      // Crash after persisting the first batch: the delete never happens.
      let calls = 0;
      const crashing = async (s: ArchivedStream, events: RoomEvent[]) => {
        await sink(s, events);
        if (++calls === 1) throw new Error("crash after persist");
      };
      const first = await sweepStream(room.redis, streamOf(room), crashing, {
        threshold: 1,
        keepRecent: 4,
        batchSize: 6,
      });
      assert.match(String(first.error), /crash after persist/);
      assert.deepEqual(await streamIds(room), ids, "nothing deleted");
      // The re-run persists that batch again: duplicates on disk, none read back.
      const second = await sweepStream(room.redis, streamOf(room), sink, {
        threshold: 1,
        keepRecent: 4,
        batchSize: 6,
      });
      assert.equal(second.error, undefined);
      assert.equal(second.archived, 16);
      const back = await readArchive(dir);
      assert.deepEqual(back.map((e) => e.id), ids.slice(0, 16));
      assert.deepEqual(back.map((e) => e.payload), [...Array(16).keys()]);
      assert.deepEqual(await streamIds(room), ids.slice(16));
      const repo = room.config.repo;
      assert.equal((await readArchive(dir, { room: `${repo}:main` })).length, 16);
      assert.equal((await readArchive(dir, { room: "other:main" })).length, 0);
      assert.equal((await readArchive(dir, { grep: '"payload":7,' })).length, 1);
      assert.equal((await readArchive(dir, { types: ["NOPE"] })).length, 0);
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("archiver: sweepArchive finds several room streams and collects per-stream errors", async () => {
  await withRoom(async (a) => {
    await withRoom(async (b) => {
      await publishN(a, 5);
      await publishN(b, 5);
      const seen = new Set<string>();
      const result = await sweepArchive(a.redis, (s) => {
        seen.add(s.key);
        if (s.key === b.keys.events) return Promise.reject(new Error("disk full"));
        return Promise.resolve();
      }, { threshold: 5, keepRecent: 0 });
      assert.ok(seen.has(a.keys.events) && seen.has(b.keys.events));
      assert.ok(
        result.errors.some((e) => e.stream === b.keys.events && /disk full/.test(String(e.error))),
      );
      assert.equal(await a.redis.call(["XLEN", a.keys.events]), 0);
      assert.equal(await b.redis.call(["XLEN", b.keys.events]), 5);
    });
  });
});
