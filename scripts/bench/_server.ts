/**
 * Shared helpers of the benchmarks: a throwaway `redis-server` on a free port,
 * tool checks, `hyperfine` with JSON export, medians and Markdown tables.
 *
 * @module
 */
import { RUN_PERMISSIONS } from "../permissions.ts";

/** The repository root (benchmarks run child processes from here). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** A running throwaway Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** TCP port it listens on. */
  port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

const INSTALL_HINT = "run `apt-get install hyperfine redis-tools redis-server`";

/** Throws a clear error when one of `tools` is not on PATH. */
export async function requireTools(tools: readonly string[]): Promise<void> {
  for (const tool of tools) {
    try {
      await new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`benchmark needs ${tool}, which is not installed: ${INSTALL_HINT}`);
      }
      throw error;
    }
  }
}

/** Runs a command and returns its stdout; throws with its stderr on failure. */
export async function run(
  cmd: string,
  args: readonly string[],
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, { args: [...args], env, cwd: ROOT, stdin: "null" })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${dec.decode(out.stderr).trim()}`);
  }
  return dec.decode(out.stdout);
}

/** Starts `redis-server` without persistence on a free port and waits for PING. */
export async function startRedis(): Promise<RedisServer> {
  await requireTools(["redis-server", "redis-cli"]);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command("/usr/bin/redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  for (let i = 0; i < 100; i++) {
    const pong = await new Deno.Command("redis-cli", {
      args: ["-p", String(port), "PING"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (new TextDecoder().decode(pong.stdout).trim() === "PONG") {
      return { url: `redis://127.0.0.1:${port}`, port, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
}

/** Runs `fn` against `server`, or against a fresh server stopped afterwards. */
export async function withRedis<T>(
  server: RedisServer | undefined,
  fn: (server: RedisServer) => Promise<T>,
): Promise<T> {
  if (server) return await fn(server);
  const own = await startRedis();
  try {
    return await fn(own);
  } finally {
    await own.stop();
  }
}

/** The median of `values` (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median ms of each of `fns`, called in turn (`calls` rounds after `warmup`
 * unmeasured ones), so JIT warm-up and machine noise fall on all alike.
 */
export async function timeMedians(
  fns: readonly (() => Promise<unknown>)[],
  calls: number,
  warmup: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const ms: number[][] = fns.map(() => []);
  for (let i = 0; i < calls; i++) {
    for (const [j, fn] of fns.entries()) {
      const start = performance.now();
      await fn();
      ms[j]!.push(performance.now() - start);
    }
  }
  return ms.map(median);
}

/** Runs `task(i)` for every `i` below `count`, at most `width` at a time. */
export async function inFlight(
  count: number,
  width: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await task(next++);
  }));
}

/** A Markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** `a / b` as text, e.g. `3.21×`. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** One command for {@linkcode hyperfine}: its display name and argv (no shell). */
export interface BenchCommand {
  name: string;
  argv: readonly string[];
}

/**
 * Runs `hyperfine -N` over `commands` (from {@linkcode ROOT}, with `env`
 * added to the environment) and returns each command's median in ms.
 */
export async function hyperfine(
  commands: readonly BenchCommand[],
  options: { runs: number; warmup: number; env?: Record<string, string> },
): Promise<number[]> {
  return (await hyperfineTimes(commands, options)).map((t) => t.median);
}

/** Wall-clock median and mean CPU time (user + system) of one command, in ms. */
export interface BenchTimes {
  median: number;
  cpu: number;
}

/**
 * {@linkcode hyperfine}, also returning each command's mean CPU time (user +
 * system), which a loaded machine disturbs far less than wall-clock time.
 */
export async function hyperfineTimes(
  commands: readonly BenchCommand[],
  options: { runs: number; warmup: number; env?: Record<string, string> },
): Promise<BenchTimes[]> {
  await requireTools(["hyperfine"]);
  // One plain run each first, so a failing command reports its own stderr.
  for (const c of commands) await run(c.argv[0]!, c.argv.slice(1), options.env);
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const args = ["-N", "--style", "none", "--warmup", String(options.warmup)];
    args.push("--runs", String(options.runs), "--export-json", json);
    for (const c of commands) {
      args.push("--command-name", c.name, c.argv.map(shellWord).join(" "));
    }
    await run("hyperfine", args, options.env);
    const report = JSON.parse(await Deno.readTextFile(json)) as {
      results: { median: number; user: number; system: number }[];
    };
    return report.results.map((r) => ({
      median: r.median * 1000,
      cpu: (r.user + r.system) * 1000,
    }));
  } finally {
    await Deno.remove(json);
  }
}

/** Quotes one argument for hyperfine's shell-words splitting (used with `-N`). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The commands both per-process benchmarks compare, in this order: `agentroom
 * post` (resp, then ioredis through `env AGENTROOM_TRANSPORT=ioredis`, one
 * extra exec), `agentroom help` (every CLI module loaded, no Redis),
 * `redis-cli XADD` and a bare `deno run` of an empty module; with the
 * environment the CLI needs. Calls `fn` and removes the empty module after.
 */
export async function withPostCommands<T>(
  server: RedisServer,
  fn: (commands: BenchCommand[], env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "agentroom-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/empty.ts`, "");
    const deno = [Deno.execPath(), "run", ...RUN_PERMISSIONS];
    const post = [...deno, "cli.ts", "post", "NOTE", "hello"];
    const xadd = ["redis-cli", "-p", String(server.port), "XADD", "bench-post", "*", "k", "v"];
    const commands = [
      { name: "agentroom post (resp)", argv: post },
      { name: "agentroom post (ioredis)", argv: ["env", "AGENTROOM_TRANSPORT=ioredis", ...post] },
      { name: "agentroom help (no Redis)", argv: [...deno, "cli.ts", "help"] },
      { name: "redis-cli XADD", argv: xadd },
      { name: "deno run empty.ts", argv: [...deno, `${dir}/empty.ts`] },
    ];
    const env = {
      AGENTROOM_REDIS_URL: server.url,
      REPO_ID: "bench",
      AGENTROOM_SESSION_ID: "bench0001",
    };
    return await fn(commands, env);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A Markdown description of this machine and the tool versions. */
export async function machine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/^model name\s*:\s*(.*)$/m)?.[1];
  const first = async (cmd: string) => (await run(cmd, ["--version"])).split("\n")[0]!.trim();
  const cores = (await run("nproc", [])).trim();
  return [
    `- CPU: ${cpu ?? "unknown"}, ${cores} cores (nproc)`,
    `- OS: ${Deno.build.os} ${Deno.osRelease()} (${Deno.build.arch})`,
    `- Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    `- ${await first("redis-server")}`,
    `- ${await first("hyperfine")}, ${await first("redis-benchmark")}`,
  ].join("\n");
}
