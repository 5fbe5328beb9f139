/**
 * Per-process latency of `agentroom post` (`deno run cli.ts post NOTE hello`,
 * with both transports) against two baselines measured in the same
 * `hyperfine -N` run on the same throwaway Redis: `redis-cli XADD` and a bare
 * `deno run` of an empty module. `agentroom help` (every CLI module loaded, no
 * Redis) splits the gap into module loading and the Redis work.
 *
 * ```sh
 * deno run -A scripts/bench/post_latency.ts   # BENCH_RUNS=30 by default
 * ```
 *
 * @module
 */
import {
  hyperfine,
  ratio,
  type RedisServer,
  table,
  withPostCommands,
  withRedis,
} from "./_server.ts";

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function postLatency(server?: RedisServer): Promise<string> {
  const runs = Number(Deno.env.get("BENCH_RUNS") ?? 30);
  return await withRedis(server, (redis) =>
    withPostCommands(redis, async (commands, env) => {
      console.error(`post latency: hyperfine -N --warmup 3 --runs ${runs} …`);
      const ms = await hyperfine(commands, { runs, warmup: 3, env });
      const [resp, ioredis, help, cli, bare] = ms as [number, number, number, number, number];
      const rows = commands.map((c, i) => [
        c.name,
        ms[i]!.toFixed(1),
        ratio(ms[i]!, cli),
        ratio(ms[i]!, bare),
      ]);
      return [
        `### Per-process latency of \`agentroom post\` (hyperfine -N, ${runs} runs, median)`,
        "",
        table(["command", "median ms", "÷ redis-cli", "÷ bare deno"], rows),
        "",
        `post/redis-cli ${ratio(resp, cli)}, post/bare deno ${ratio(resp, bare)}, ` +
        `ioredis/resp ${ratio(ioredis, resp)}. Post minus bare deno: ` +
        `${(resp - bare).toFixed(1)} ms, of which loading the CLI's modules ` +
        `(help minus bare deno) ${(help - bare).toFixed(1)} ms.`,
      ].join("\n");
    }));
}

if (import.meta.main) console.log(await postLatency());
