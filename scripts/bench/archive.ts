/**
 * Archive sweep of a long stream: BENCH_ARCHIVE_EVENTS (default 1,000,000)
 * events swept by `sweepArchive` into the JSON Lines file sink (fsynced per
 * batch), against a bare loop on the same server in the same run that reads
 * the same batches (XRANGE COUNT 1000) and deletes them (XDEL) without
 * persisting anything. Reports the time of each, their ratio and the peak RSS
 * of this process during the sweep (it streams in batches, so the peak must
 * not grow with the stream).
 *
 * ```sh
 * deno run -A scripts/bench/archive.ts
 * ```
 *
 * @module
 */
import {
  connectRedis,
  fileSink,
  parseRedisUrl,
  type RedisPort,
  type RedisReply,
  roomConfig,
  roomKeys,
  sweepArchive,
} from "../../mod.ts";
import { ratio, type RedisServer, table, withRedis } from "./_server.ts";

const EVENTS = Number(Deno.env.get("BENCH_ARCHIVE_EVENTS") ?? 1_000_000);

async function fill(redis: RedisPort, key: string): Promise<void> {
  const payload = JSON.stringify({ text: "x".repeat(80) });
  for (let i = 0; i < EVENTS; i += 1000) {
    const n = Math.min(1000, EVENTS - i);
    await redis.pipeline(Array.from({ length: n }, (_, k) => [
      "XADD",
      key,
      "*",
      "type",
      "NOTE",
      "agent_id",
      "bench-1",
      "payload",
      payload,
      "timestamp",
      String(Date.now() + i + k),
    ]));
  }
}

async function bareLoop(redis: RedisPort, key: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    const batch = await redis.call(["XRANGE", key, "-", "+", "COUNT", 1000]) as RedisReply[];
    if (!Array.isArray(batch) || batch.length === 0) break;
    await redis.call(["XDEL", key, ...batch.map((e) => String((e as RedisReply[])[0]))]);
  }
  return performance.now() - start;
}

/** The Markdown section. */
export async function archiveSweep(server?: RedisServer): Promise<string> {
  return await withRedis(server, async ({ url }) => {
    const redis = await connectRedis(parseRedisUrl(url), { commandTimeoutMs: 60_000 });
    const dir = await Deno.makeTempDir({ prefix: "agentroom-archive-bench-" });
    try {
      const bareKey = roomKeys(roomConfig({ repo: "bench-bare", branch: "main" })).events;
      await fill(redis, bareKey);
      const bareMs = await bareLoop(redis, bareKey);
      const key = roomKeys(roomConfig({ repo: "bench-archive", branch: "main" })).events;
      await fill(redis, key);
      let peak = Deno.memoryUsage().rss;
      const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
      const start = performance.now();
      const result = await sweepArchive(redis, fileSink(dir), { threshold: 1, keepRecent: 0 });
      const sweepMs = performance.now() - start;
      clearInterval(sampler);
      peak = Math.max(peak, Deno.memoryUsage().rss);
      const archived = result.streams.reduce((n, s) => n + s.archived, 0);
      if (archived !== EVENTS || result.errors.length > 0) {
        throw new Error(`archived ${archived} of ${EVENTS}; errors: ${result.errors.length}`);
      }
      let bytes = 0;
      for await (const room of Deno.readDir(dir)) {
        for await (const f of Deno.readDir(`${dir}/${room.name}`)) {
          bytes += (await Deno.stat(`${dir}/${room.name}/${f.name}`)).size;
        }
      }
      const rate = (ms: number) => Math.round(EVENTS / (ms / 1000)).toLocaleString("en");
      return [
        `### Archive sweep of ${EVENTS.toLocaleString("en")} events (one stream, batches of 1000)`,
        "",
        table(["", "time (s)", "events/s", "peak RSS (MB)"], [
          [
            "sweepArchive + fileSink (fsync per batch)",
            (sweepMs / 1000).toFixed(1),
            rate(sweepMs),
            (peak / 1024 / 1024).toFixed(0),
          ],
          [
            "bare XRANGE + XDEL loop (nothing persisted)",
            (bareMs / 1000).toFixed(1),
            rate(bareMs),
            "—",
          ],
        ]),
        "",
        `Ratio (bare time / sweep time): ${ratio(bareMs, sweepMs)}; archive on disk: ${
          (bytes / 1024 / 1024).toFixed(0)
        } MB of JSON Lines.`,
      ].join("\n");
    } finally {
      await redis.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

if (import.meta.main) console.log(await archiveSweep());
