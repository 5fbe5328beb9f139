/**
 * Peak resident memory of `agentroom post` (both transports) against a bare
 * `deno run` of an empty module and `redis-cli XADD`, measured with
 * `/usr/bin/time -f %M` (max RSS in KB) on the same throwaway Redis. One
 * unmeasured warm-up round, then BENCH_MEMORY_RUNS rounds (default 10),
 * commands interleaved; the median is reported.
 *
 * ```sh
 * deno run -A scripts/bench/post_memory.ts
 * ```
 *
 * @module
 */
import {
  median,
  ratio,
  type RedisServer,
  requireTools,
  run,
  table,
  withPostCommands,
  withRedis,
} from "./_server.ts";

/** Peak RSS in KB of one run of `argv`. */
async function peakRssKb(argv: readonly string[], env: Record<string, string>): Promise<number> {
  const out = await Deno.makeTempFile();
  try {
    await run("/usr/bin/time", ["-f", "%M", "-o", out, ...argv], env);
    return Number((await Deno.readTextFile(out)).trim().split("\n").at(-1));
  } finally {
    await Deno.remove(out);
  }
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function postMemory(server?: RedisServer): Promise<string> {
  await requireTools(["/usr/bin/time"]);
  const rounds = Number(Deno.env.get("BENCH_MEMORY_RUNS") ?? 10);
  return await withRedis(server, (redis) =>
    withPostCommands(redis, async (commands, env) => {
      console.error(`post memory: /usr/bin/time -f %M, ${rounds} rounds …`);
      const samples: number[][] = commands.map(() => []);
      for (let round = 0; round <= rounds; round++) {
        for (const [i, c] of commands.entries()) {
          const kb = await peakRssKb(c.argv, env);
          if (round > 0) samples[i]!.push(kb);
        }
      }
      const kb = samples.map(median);
      const [resp, ioredis, help, cli, bare] = kb as [number, number, number, number, number];
      const mb = (x: number) => (x / 1024).toFixed(1);
      const rows = commands.map((c, i) => [
        c.name,
        mb(kb[i]!),
        ratio(kb[i]!, cli),
        ratio(kb[i]!, bare),
      ]);
      return [
        `### Peak RSS of \`agentroom post\` (/usr/bin/time -f %M, median of ${rounds})`,
        "",
        table(["command", "max RSS MB", "÷ redis-cli", "÷ bare deno"], rows),
        "",
        `post/redis-cli ${ratio(resp, cli)}, post/bare deno ${ratio(resp, bare)}, ` +
        `ioredis/resp ${ratio(ioredis, resp)}. Post minus bare deno: ${mb(resp - bare)} MB, ` +
        `of which loading the CLI's modules (help minus bare deno) ${mb(help - bare)} MB.`,
      ].join("\n");
    }));
}

if (import.meta.main) console.log(await postMemory());
