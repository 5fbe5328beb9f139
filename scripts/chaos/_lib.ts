/**
 * Shared parts of the chaos suite: throwaway `redis-server` processes that
 * the suite controls itself (kill -9, SIGSTOP, restart on the same port and
 * data directory), worker processes with a ready/start protocol, paging
 * through a room's audit stream, and the result rows.
 *
 * Everything listens on 127.0.0.1 only. Every process started here is
 * tracked and ended by {@linkcode stopEverything}, which `run.ts` calls on
 * the way out (also after a failure).
 *
 * @module
 */
import type { RoomEvent } from "../../src/codec.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import type { Room } from "../../src/room.ts";

/** The redis-server binary: `REDISMS_SYSTEM_BINARY`, else the one on PATH. */
export const REDIS_SERVER: string = Deno.env.get("REDISMS_SYSTEM_BINARY") || "redis-server";

/** One checked property of one scenario. */
export interface Row {
  /** Scenario name (claims, leases, faults, fuzz, injection, cluster, workers). */
  scenario: string;
  /** What was checked. */
  check: string;
  /** The volume behind it, e.g. `100,000 attempts, 8 processes`. */
  volume: string;
  /** How many violations were found (the suite wants 0), or `null` when only measured. */
  violations: number | null;
  /** A few examples of what went wrong (empty when nothing did). */
  examples: string[];
  /** Extra measured figures, e.g. failover losses. */
  note?: string;
}

/** The two profiles: `short` runs in the test command, `full` by `--full`. */
export type Profile = "short" | "full";

/** A number with thousands separators. */
export function n(value: number): string {
  return value.toLocaleString("en-US");
}

/** Builds a row from a list of violations (kept to 5 examples). */
export function row(
  scenario: string,
  check: string,
  volume: string,
  violations: string[],
  note?: string,
): Row {
  return {
    scenario,
    check,
    volume,
    violations: violations.length,
    examples: violations.slice(0, 5),
    note,
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const children = new Set<Deno.ChildProcess>();
const dirs = new Set<string>();

/** A redis-server started by the suite. */
export class Server {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its data directory (AOF, RDB, cluster config). */
  readonly dir: string;
  /** The server arguments besides port, bind and dir. */
  readonly args: string[];
  #child: Deno.ChildProcess | undefined;

  constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.args = args;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id (for the report), or `undefined` when not running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and waits until it answers PING (10 s at most). */
  async start(): Promise<void> {
    const child = new Deno.Command(REDIS_SERVER, {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        ...this.args,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.add(child);
    child.status.then(() => children.delete(child));
    this.#child = child;
    await waitForPing(this.url, 10_000);
  }

  /** Sends `signal` to the process (SIGKILL, SIGSTOP, SIGCONT, ...). */
  signal(signal: Deno.Signal): void {
    this.#child?.kill(signal);
  }

  /** kill -9, and waits for the exit. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    this.#child = undefined;
  }

  /** Stops the process (continuing it first if stopped) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    await endChild(child);
    this.#child = undefined;
  }
}

async function endChild(child: Deno.ChildProcess): Promise<void> {
  for (const signal of ["SIGCONT", "SIGTERM"] as const) {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, 3_000);
  await child.status;
  clearTimeout(timer);
}

/** Starts a redis-server on a fresh port and data directory with extra `args`. */
export async function startServer(args: string[] = [], port = freePort()): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "agentroom-chaos-" });
  dirs.add(dir);
  const server = new Server(port, dir, args);
  await server.start();
  return server;
}

/** Waits until the server at `url` answers PING. */
export async function waitForPing(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const redis = await connectRedis(parseRedisUrl(url), {
        connectTimeoutMs: 500,
        commandTimeoutMs: 1_000,
      });
      try {
        // a server loading its AOF answers PING with a LOADING error
        if ((await redis.call(["PING"])) === "PONG") return;
      } finally {
        await redis.close();
      }
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`redis at ${url} did not answer PING within ${withinMs} ms: ${last}`);
}

/** Registers a child process the suite started, so {@linkcode stopEverything} ends it. */
export function track(child: Deno.ChildProcess): Deno.ChildProcess {
  children.add(child);
  child.status.then(() => children.delete(child));
  return child;
}

/** Ends every process the suite started and removes its data directories. */
export async function stopEverything(): Promise<void> {
  await Promise.all([...children].map(endChild));
  for (const dir of dirs) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  dirs.clear();
}

/** How many suite processes are still running (0 after {@linkcode stopEverything}). */
export function runningChildren(): number {
  return children.size;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every event of the room's stream, earliest first, read page by page. */
export async function allEvents(room: Room): Promise<RoomEvent[]> {
  const out: RoomEvent[] = [];
  let after = "0-0";
  for (;;) {
    const page = await room.since(after, 10_000);
    out.push(...page);
    if (page.length < 10_000) return out;
    after = page[page.length - 1]!.id;
  }
}

/**
 * Starts `count` worker processes running `script` with `args(i)`, waits for
 * each one's `ready` line, sends each its orders (`orders(i)`, JSON on stdin,
 * all at once), and returns each one's last stdout line parsed as JSON. The
 * workers are killed after `deadlineMs`.
 */
export async function runWorkers<T>(
  script: string,
  count: number,
  args: (i: number) => string[],
  orders: (i: number) => unknown,
  deadlineMs: number,
): Promise<T[]> {
  const procs = Array.from({ length: count }, (_, i) =>
    track(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", script, ...args(i)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(deadlineMs),
      }).spawn(),
    ));
  const readers = procs.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const stderr = procs.map((c) => new Response(c.stderr).text());
  const texts = procs.map(() => "");
  await Promise.all(readers.map(async (reader, i) => {
    while (!texts[i]!.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`worker ${i} did not start: ${await stderr[i]}`);
      texts[i] += value;
    }
  }));
  await Promise.all(procs.map(async (c, i) => {
    const writer = c.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(orders(i))));
    await writer.close();
  }));
  const outputs = await Promise.all(readers.map(async (reader, i) => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return texts[i]!.trim().split("\n").pop()!;
      texts[i] += value;
    }
  }));
  const statuses = await Promise.all(procs.map((c) => c.status));
  for (const [i, s] of statuses.entries()) {
    if (!s.success) throw new Error(`worker ${i} failed (${s.code}): ${await stderr[i]}`);
  }
  await Promise.all(stderr);
  return outputs.map((o) => JSON.parse(o) as T);
}

/** A uniformly random integer below `below`. */
export function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

/** A random element of `list`. */
export function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)]!;
}
