/**
 * Worker throughput: events per second through the `Runtime` (a no-op
 * worker; receipt, ack and all), with one and four instances sharing a
 * consumer group, against a bare `XREADGROUP` + `XACK` loop (one ack per
 * event, the same instance counts) on the same throwaway Redis, in the same
 * run. Each case consumes BENCH_EVENTS (default 5000) events published
 * beforehand into a fresh room whose group starts at the beginning; the figure
 * is the median of BENCH_REPEATS runs (default 3).
 *
 * ```sh
 * deno run -A scripts/bench/workers.ts
 * ```
 *
 * @module
 */
import {
  connectRedis,
  parseRedisUrl,
  type RedisPort,
  type RedisReply,
  Room,
  roomConfig,
  Runtime,
} from "../../mod.ts";
import { median, ratio, type RedisServer, table, withRedis } from "./_server.ts";

const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 5_000);
const REPEATS = Number(Deno.env.get("BENCH_REPEATS") ?? 3);
let roomCounter = 0;

/** A fresh room holding EVENTS events and a group "g" created at its start. */
async function preparedRoom(redis: RedisPort): Promise<Room> {
  const room = new Room(
    redis,
    roomConfig({ repo: `bench-workers-${Date.now()}-${roomCounter++}`, branch: "main" }),
  );
  await redis.call(["XGROUP", "CREATE", room.keys.events, "g", "0", "MKSTREAM"]);
  for (let i = 0; i < EVENTS; i += 500) {
    const batch = Array.from(
      { length: Math.min(500, EVENTS - i) },
      (
        _,
        k,
      ) => [
        "XADD",
        room.keys.events,
        "*",
        "type",
        "JOB",
        "agent_id",
        "bench",
        "payload",
        String(i + k),
      ],
    );
    await redis.pipeline(batch);
  }
  return room;
}

async function ports(url: string, n: number): Promise<RedisPort[]> {
  return await Promise.all(Array.from({ length: n }, () => connectRedis(parseRedisUrl(url))));
}

/** Bare loop: `instances` consumers, each reading 100 at a time and acking one by one. */
async function bareRate(url: string, instances: number): Promise<number> {
  const [admin] = await ports(url, 1);
  const room = await preparedRoom(admin!);
  const conns = await ports(url, instances);
  let acked = 0;
  const start = performance.now();
  await Promise.all(conns.map(async (redis, i) => {
    while (acked < EVENTS) {
      const reply = await redis.call([
        "XREADGROUP",
        "GROUP",
        "g",
        `bare-${i}`,
        "COUNT",
        100,
        "BLOCK",
        50,
        "STREAMS",
        room.keys.events,
        ">",
      ], { timeoutMs: 5_000 }) as RedisReply[] | null;
      const entries = reply ? ((reply[0] as RedisReply[])[1] as RedisReply[][]) : [];
      for (const entry of entries) {
        await redis.call(["XACK", room.keys.events, "g", String(entry[0])]);
        acked++;
      }
    }
  }));
  const rate = EVENTS / ((performance.now() - start) / 1000);
  await Promise.all([...conns, admin!].map((c) => c.close()));
  return rate;
}

/** The Runtime: `instances` instances of a no-op worker, `concurrency` each. */
async function runtimeRate(url: string, instances: number, concurrency: number): Promise<number> {
  const [admin] = await ports(url, 1);
  const room = await preparedRoom(admin!);
  const conns = await ports(url, instances * 2);
  let executed = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => finish = resolve);
  const stop = new AbortController();
  const runtimes = Array.from({ length: instances }, (_, i) =>
    new Runtime(
      new Room(conns[2 * i]!, room.config),
      {
        id: "g",
        interests: ["JOB"],
        execute() {
          if (++executed === EVENTS) finish();
        },
      },
      {
        consumer: `rt-${i}`,
        reader: conns[2 * i + 1]!,
        concurrency,
        blockMs: 50,
        minIdleMs: 60_000,
      },
    ));
  const start = performance.now();
  const listening = runtimes.map((r) => r.listen(stop.signal));
  await allDone;
  // Executed is not acked: wait until the group holds nothing pending.
  for (;;) {
    const pending = await admin!.call(["XPENDING", room.keys.events, "g"]) as RedisReply[];
    if (Number(pending[0]) === 0) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const rate = EVENTS / ((performance.now() - start) / 1000);
  stop.abort();
  await Promise.all(listening);
  await Promise.all([...conns, admin!].map((c) => c.close()));
  return rate;
}

async function medianOf(fn: () => Promise<number>): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < REPEATS; i++) rates.push(await fn());
  return median(rates);
}

/** The Markdown section. */
export async function workerThroughput(server?: RedisServer): Promise<string> {
  return await withRedis(server, async ({ url }) => {
    const rows: string[][] = [];
    for (const instances of [1, 4]) {
      const bare = await medianOf(() => bareRate(url, instances));
      for (const concurrency of [1, 8]) {
        const rt = await medianOf(() => runtimeRate(url, instances, concurrency));
        rows.push([
          String(instances),
          String(concurrency),
          Math.round(rt).toLocaleString("en"),
          Math.round(bare).toLocaleString("en"),
          ratio(rt, bare),
        ]);
      }
    }
    return [
      `### Worker throughput (${EVENTS} events, no-op worker, median of ${REPEATS})`,
      "",
      "Runtime: reads of up to max(16, 4 × concurrency) events, then per event the execute and the",
      "receipt write + ack pipelined (one round trip). Bare loop: XREADGROUP of 100, then one XACK",
      "per event, same instance count. Both in one Deno process and one Redis, sharing 2 cores.",
      "",
      table(
        ["instances", "concurrency", "Runtime events/s", "bare XREADGROUP+XACK events/s", "ratio"],
        rows,
      ),
    ].join("\n");
  });
}

if (import.meta.main) console.log(await workerThroughput());
