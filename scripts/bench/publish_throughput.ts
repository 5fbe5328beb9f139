/**
 * Library publish throughput in one Deno process, both transports, one at a
 * time (5k events) and pipelined (16 and 100 publishes in flight, 50k events),
 * against `redis-benchmark -c 1 -P <depth>` at the same depth on the same
 * throwaway Redis: bare `XADD`, and `EVALSHA` of the exact script, keys and
 * arguments one `Room.publish` sends (captured through a recording port; the
 * fair baseline, since publish runs that script: `src/lua/publish.lua`). Each figure is the median of BENCH_REPEATS runs (default 3);
 * the database is flushed before each run.
 *
 * ```sh
 * deno run -A scripts/bench/publish_throughput.ts
 * ```
 *
 * @module
 */
import {
  connectRedis,
  parseRedisUrl,
  type RedisPort,
  type RedisTransport,
  resolveIdentity,
  Room,
  roomConfig,
} from "../../mod.ts";
import { median, ratio, type RedisServer, requireTools, run, table, withRedis } from "./_server.ts";

const CASES = [{ depth: 1, n: 5_000 }, { depth: 16, n: 50_000 }, { depth: 100, n: 50_000 }];
const TRANSPORTS: readonly RedisTransport[] = ["resp", "ioredis"];
const agent = resolveIdentity("bench", "s1");
const config = roomConfig({ repo: "bench-tp", branch: "main" });

/** Keeps `depth` publishes in flight until `n` are done; returns events/s. */
async function publishRate(
  url: string,
  transport: RedisTransport,
  depth: number,
  n: number,
): Promise<number> {
  const redis = await connectRedis(parseRedisUrl(url), { transport });
  try {
    const room = new Room(redis, config);
    const burst = async (count: number) => {
      let left = count;
      const worker = async () => {
        while (left-- > 0) await room.publish({ type: "NOTE", agent, payload: "x" });
      };
      await Promise.all(Array.from({ length: depth }, worker));
    };
    await burst(1_000); // warm-up: script load, JIT
    const start = performance.now();
    await burst(n);
    return n / ((performance.now() - start) / 1000);
  } finally {
    await redis.close();
  }
}

/** The script, keys and arguments one `Room.publish` sends, captured by a recording port. */
async function capturePublish(): Promise<{ source: string; keys: string[]; args: string[] }> {
  let sent: { source: string; keys: string[]; args: string[] } | undefined;
  const unexpected = () => Promise.reject(new Error("publish now sends more than one script"));
  const port: RedisPort = {
    address: "capture",
    call: unexpected,
    callBytes: unexpected,
    pipeline: unexpected,
    evalScript: (script, keys, args) => {
      sent = { source: script.source, keys: [...keys], args: args.map(String) };
      return Promise.resolve(["0-1", "0"]);
    },
    close: () => Promise.resolve(),
  };
  await new Room(port, config).publish({ type: "NOTE", agent, payload: "x" });
  return sent!;
}

/** `redis-benchmark -c 1 -P depth -n n <command…>`; returns requests/s. */
async function benchmarkRate(port: number, depth: number, n: number, command: string[]) {
  const args = ["-p", String(port), "-c", "1", "-P", String(depth), "-n", String(n), "--csv"];
  const csv = (await run("redis-benchmark", [...args, ...command])).trim().split("\n");
  return Number(csv.at(-1)!.split('","')[1]);
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function publishThroughput(server?: RedisServer): Promise<string> {
  await requireTools(["redis-benchmark"]);
  const repeats = Number(Deno.env.get("BENCH_REPEATS") ?? 3);
  return await withRedis(server, async ({ url, port }) => {
    const cli = (...args: string[]) => run("redis-cli", ["-p", String(port), ...args]);
    const sent = await capturePublish();
    const sha = (await cli("SCRIPT", "LOAD", sent.source)).trim();
    const evalsha = ["EVALSHA", sha, String(sent.keys.length), ...sent.keys, ...sent.args];
    const measure = async (once: () => Promise<number>) => {
      const rates: number[] = [];
      for (let i = 0; i < repeats; i++) {
        await cli("FLUSHALL");
        rates.push(await once());
      }
      return median(rates);
    };
    const rows: string[][] = [];
    for (const { depth, n } of CASES) {
      console.error(`publish throughput: depth ${depth}, ${n} events …`);
      const xadd = await measure(() =>
        benchmarkRate(port, depth, n, ["XADD", "bench-tp", "*", "f", "v"])
      );
      const ev = await measure(() => benchmarkRate(port, depth, n, evalsha));
      const lib: number[] = [];
      for (const t of TRANSPORTS) lib.push(await measure(() => publishRate(url, t, depth, n)));
      const [resp, ioredis] = lib as [number, number];
      const f = (x: number) => Math.round(x).toLocaleString("en-US");
      rows.push([
        String(depth),
        f(n),
        f(xadd),
        f(ev),
        f(resp),
        f(ioredis),
        ratio(resp, ev),
        ratio(ioredis, ev),
        ratio(resp, xadd),
      ]);
    }
    const headers = ["in flight", "events", "r-b XADD /s", "r-b EVALSHA /s", "resp /s"];
    headers.push("ioredis /s", "resp ÷ EVALSHA", "ioredis ÷ EVALSHA", "resp ÷ XADD");
    return [
      `### Library publish throughput (one process, median of ${repeats}; r-b = redis-benchmark)`,
      "",
      table(headers, rows),
    ].join("\n");
  });
}

if (import.meta.main) console.log(await publishThroughput());
