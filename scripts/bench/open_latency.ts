/**
 * Latency of `openTasks(room, 50)` in a room with 100 stream entries against
 * one with 100,000, each holding the same 20 open tasks spread evenly through
 * the stream (the rest ordinary events). The task type is registered before
 * publishing, so the publish script indexes the tasks and nothing is
 * backfilled. The open-task index makes the cost depend on the number of
 * tasks, not on stream length: the ratio should be about 1.
 *
 * Baselines on the same throwaway Redis: one bare `ZREVRANGE` of the index
 * through the same connection (one round trip, the floor of any listing), and
 * `redis-cli -r N ZREVRANGE` (N repetitions in one redis-cli process; its
 * start-up is removed by subtracting a one-repetition run).
 *
 * ```sh
 * deno run -A scripts/bench/open_latency.ts   # BENCH_CALLS=200 by default
 * ```
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { openTasks, registerTask } from "../../src/tasks.ts";
import {
  inFlight,
  median,
  ratio,
  type RedisServer,
  run,
  table,
  timeMedians,
  withRedis,
} from "./_server.ts";

const TASKS = 20;
const agent = resolveIdentity("bench", "bench000");

/** Publishes `entries` events, `TASKS` of them tasks spread evenly, `inFlight` at a time. */
async function fill(room: Room, entries: number, width = 200): Promise<void> {
  await registerTask(room, { type: "BENCH_TASK", description: "benchmark task" });
  const every = Math.floor(entries / TASKS);
  await inFlight(entries, width, async (i) => {
    const type = i % every === every - 1 ? "BENCH_TASK" : "NOTE";
    await room.publish({ type, agent, payload: { i } });
  });
}

/** Per-call ms of `redis-cli -r reps ZREVRANGE key 0 49`, start-up subtracted. */
async function redisCliMs(port: number, key: string, reps: number): Promise<number> {
  const once = async (r: number) => {
    const start = performance.now();
    await run("redis-cli", ["-p", String(port), "-r", String(r), "ZREVRANGE", key, "0", "49"]);
    return performance.now() - start;
  };
  const one: number[] = [];
  const many: number[] = [];
  for (let i = 0; i < 7; i++) {
    one.push(await once(1));
    many.push(await once(reps));
  }
  return (median(many) - median(one)) / (reps - 1);
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function openLatency(server?: RedisServer): Promise<string> {
  const calls = Number(Deno.env.get("BENCH_CALLS") ?? 200);
  return await withRedis(server, async ({ url, port }) => {
    const redis = await connectRedis(parseRedisUrl(url));
    try {
      const rooms: Room[] = [];
      for (const entries of [100, 100_000]) {
        const repo = `bench-open-${entries}-${crypto.randomUUID().slice(0, 8)}`;
        const room = new Room(redis, roomConfig({ repo, branch: "main" }));
        console.error(`open latency: publishing ${entries} events …`);
        await fill(room, entries);
        const open = await openTasks(room, 50);
        if (open.length !== TASKS) {
          throw new Error(`expected ${TASKS} open tasks, got ${open.length}`);
        }
        rooms.push(room);
      }
      console.error(`open latency: ${calls} calls each …`);
      const medians = await timeMedians(rooms.map((room) => () => openTasks(room, 50)), calls, 100);
      const bare = await timeMedians(
        rooms.map((room) => () => redis.call(["ZREVRANGE", room.keys.openTasks, 0, 49])),
        calls,
        100,
      );
      const rows: string[][] = [];
      for (const [i, room] of rooms.entries()) {
        const length = Number(await redis.call(["XLEN", room.keys.events]));
        const cli = await redisCliMs(port, room.keys.openTasks, 5_000);
        rows.push([
          length.toLocaleString("en-US"),
          String(TASKS),
          medians[i]!.toFixed(3),
          bare[i]!.toFixed(3),
          cli.toFixed(3),
        ]);
      }
      for (const { keys } of rooms) {
        await redis.call(["DEL", keys.events, keys.openTasks, keys.catalog, keys.typesSeen]);
      }
      const [small, large] = medians as [number, number];
      return [
        `### \`openTasks(room, 50)\` latency vs stream length (median of ${calls} calls, ms)`,
        "",
        table(
          [
            "stream entries",
            "open tasks",
            "openTasks ms",
            "bare ZREVRANGE ms (same port)",
            "redis-cli -r ZREVRANGE ms/call",
          ],
          rows,
        ),
        "",
        `100,000 ÷ 100 entries: ${ratio(large, small)} (flat: the open-task index, not the ` +
        `stream, is read).`,
      ].join("\n");
    } finally {
      await redis.close();
    }
  });
}

if (import.meta.main) console.log(await openLatency());
