/**
 * Runs every benchmark in sequence against one throwaway Redis and prints a
 * Markdown summary for BENCHMARKS.md. This is `deno task bench`.
 *
 * ```sh
 * deno task bench   # BENCH_RUNS, BENCH_REPEATS, BENCH_MEMORY_RUNS tune the run counts
 * ```
 *
 * @module
 */
import { claimThroughput } from "./claims.ts";
import { hookBench } from "./hooks.ts";
import { leaseBench } from "./leases.ts";
import { openLatency } from "./open_latency.ts";
import { postLatency } from "./post_latency.ts";
import { postMemory } from "./post_memory.ts";
import { publishThroughput } from "./publish_throughput.ts";
import { workerThroughput } from "./workers.ts";
import { archiveSweep } from "./archive.ts";
import { machine, requireTools, startRedis } from "./_server.ts";

await requireTools(["hyperfine", "redis-benchmark", "redis-cli", "redis-server", "/usr/bin/time"]);
const sections = [await machine()];
const redis = await startRedis();
try {
  sections.push(await postLatency(redis));
  sections.push(await postMemory(redis));
  sections.push(await publishThroughput(redis));
  sections.push(await claimThroughput(redis));
  sections.push(await openLatency(redis));
  sections.push(await leaseBench(redis));
  sections.push(await hookBench(redis));
  sections.push(await workerThroughput(redis));
  sections.push(await archiveSweep(redis));
} finally {
  await redis.stop();
}
console.log(
  [`<!-- deno task bench, ${new Date().toISOString()} -->`, ...sections].join("\n\n"),
);
