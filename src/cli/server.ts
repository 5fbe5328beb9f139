/**
 * `agentroom server start|stop|status`: a local `redis-server` for one
 * machine, started in the background with AOF persistence, bound to loopback
 * (or a Unix socket in a user-only directory), and recorded in the user's
 * state directory so every agentroom process finds it when no Redis is
 * configured. Nothing else ever starts a server.
 *
 * @module
 */
import { join } from "node:path";
import { connectRedis } from "../redis/connect.ts";
import type { RedisPort } from "../redis/port.ts";
import { parseRedisUrl } from "../redis/url.ts";
import {
  readServerRecord,
  type ServerRecord,
  serverRecordPath,
  stateDir,
} from "../process/server_state.ts";
import { intFlag, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { CliError, EXIT } from "./errors.ts";
import { findOnPath } from "./setup.ts";

/** The port `server start` binds when `--port` is not given. */
export const DEFAULT_SERVER_PORT = 6379;

/** How to install redis-server, for the message when it is missing. */
export const INSTALL_HINT = "install it: 'sudo apt install redis-server' (Debian/Ubuntu), " +
  "'sudo dnf install redis' (Fedora), 'brew install redis' (macOS); on Windows run Redis in " +
  "WSL or Docker and point AGENTROOM_REDIS_URL at it";

const SERVER_BINARY = "redis-server";

async function ping(url: string): Promise<{ port: RedisPort } | undefined> {
  try {
    const port = await connectRedis(parseRedisUrl(url), {
      connectTimeoutMs: 500,
      commandTimeoutMs: 1000,
    });
    await port.call(["PING"]);
    return { port };
  } catch {
    return undefined;
  }
}

async function isAnswering(url: string): Promise<boolean> {
  const answered = await ping(url);
  await answered?.port.close().catch(() => {});
  return answered !== undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function record(ctx: Context): { file: string; dir: string } {
  const dir = stateDir(ctx.env);
  const file = serverRecordPath(ctx.env);
  if (!dir || !file) {
    throw new CliError(
      EXIT.failure,
      "cannot find the user's state directory: set HOME (or XDG_STATE_HOME)",
    );
  }
  return { file, dir };
}

async function writeRecord(file: string, value: ServerRecord): Promise<void> {
  const tmp = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, file);
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await Deno.readTextFile(file);
    return text.trim().split("\n").slice(-lines).map((l) => l.trim()).join(" | ");
  } catch {
    return "";
  }
}

function portInUse(port: number): boolean {
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return true;
    throw error;
  }
}

function report(ctx: Context, action: string, rec: ServerRecord, text: string): number {
  if (ctx.json) ctx.out.json({ action, ...rec });
  else ctx.out.line(text);
  return EXIT.ok;
}

async function start(ctx: Context): Promise<number> {
  const { file, dir: state } = record(ctx);
  const socket = ctx.bool("socket");
  if (socket && ctx.flag("port") !== undefined) {
    throw new UsageError("--port and --socket exclude each other", "server");
  }
  if (socket && Deno.build.os === "windows") {
    throw new UsageError("--socket needs Unix-domain sockets, which Windows builds lack", "server");
  }
  const port = intFlag("server", "port", ctx.flag("port"), DEFAULT_SERVER_PORT);
  if (port < 1 || port > 65535) throw new UsageError("--port must be 1-65535", "server");

  const existing = readServerRecord(ctx.env);
  if (existing && await isAnswering(existing.url)) {
    return report(
      ctx,
      "running",
      existing,
      `agentroom server: already running at ${existing.url} (pid ${existing.pid}, data in ${existing.dir}); reusing it`,
    );
  }

  if (!findOnPath(SERVER_BINARY, ctx.env)) {
    throw new CliError(EXIT.failure, `redis-server is not on PATH; ${INSTALL_HINT}`);
  }
  const dir = ctx.flag("dir") ?? join(state, "redis");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.mkdir(state, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o700);
  const pidFile = join(dir, "redis.pid");
  const logFile = join(dir, "redis.log");
  const sock = join(dir, "redis.sock");
  if (!socket && portInUse(port)) {
    throw new CliError(
      EXIT.failure,
      `port ${port} on 127.0.0.1 is in use (another Redis?); use --port P or --socket`,
    );
  }
  await Deno.remove(pidFile).catch(() => {});
  const args = [
    "--daemonize",
    "yes",
    "--dir",
    dir,
    "--pidfile",
    pidFile,
    "--logfile",
    logFile,
    "--appendonly",
    "yes",
    "--protected-mode",
    "yes",
    ...(socket
      ? ["--port", "0", "--unixsocket", sock, "--unixsocketperm", "700"]
      : ["--bind", "127.0.0.1", "--port", String(port)]),
  ];
  let ran: Deno.CommandOutput;
  try {
    ran = await new Deno.Command(SERVER_BINARY, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(EXIT.failure, `redis-server is not on PATH; ${INSTALL_HINT}`);
    }
    throw new CliError(
      EXIT.failure,
      `cannot start redis-server: ${(error as Error).message}`,
    );
  }
  if (!ran.success) {
    const why = new TextDecoder().decode(ran.stderr).trim() ||
      new TextDecoder().decode(ran.stdout).trim() || await tail(logFile, 3);
    throw new CliError(EXIT.failure, `redis-server exited with ${ran.code}: ${oneLine(why)}`);
  }
  const url = socket ? `unix://${sock}` : `redis://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    ready = await isAnswering(url);
    if (!ready) await sleep(100);
  }
  if (!ready) {
    throw new CliError(
      EXIT.failure,
      `redis-server did not answer at ${url} within 5 s; its log says: ${
        oneLine(await tail(logFile, 3)) || "(nothing)"
      }`,
    );
  }
  const pid = Number((await Deno.readTextFile(pidFile).catch(() => "0")).trim()) || 0;
  const rec: ServerRecord = { url, pid, dir, started_at: new Date().toISOString() };
  await writeRecord(file, rec);
  return report(
    ctx,
    "started",
    rec,
    `agentroom server: started redis-server (pid ${pid}) at ${url}, AOF persistence on, data in ${dir}\n` +
      `recorded in ${file}: agentroom commands and hooks on this machine use it when no Redis is configured`,
  );
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

async function stop(ctx: Context): Promise<number> {
  const { file } = record(ctx);
  const rec = readServerRecord(ctx.env);
  if (!rec) {
    if (ctx.json) ctx.out.json({ action: "none" });
    else ctx.out.line("agentroom server: no server recorded; nothing to stop");
    return EXIT.ok;
  }
  const answered = await ping(rec.url);
  if (answered) {
    // SHUTDOWN writes the AOF and exits; the server closes the connection instead of replying.
    await answered.port.call(["SHUTDOWN"]).catch(() => {});
    await answered.port.close().catch(() => {});
    const pidFile = join(rec.dir, "redis.pid");
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      const pidLeft = await Deno.stat(pidFile).then(() => true, () => false);
      gone = !pidLeft && !(await isAnswering(rec.url));
      if (!gone) await sleep(100);
    }
    if (!gone) {
      throw new CliError(
        EXIT.failure,
        `redis-server (pid ${rec.pid}) at ${rec.url} did not stop within 10 s; stop it with 'kill ${rec.pid}'`,
      );
    }
  }
  await Deno.remove(file).catch(() => {});
  return report(
    ctx,
    answered ? "stopped" : "forgotten",
    rec,
    answered
      ? `agentroom server: stopped redis-server (pid ${rec.pid}) at ${rec.url}; data kept in ${rec.dir}`
      : `agentroom server: the recorded server at ${rec.url} was not running; record removed`,
  );
}

async function status(ctx: Context): Promise<number> {
  const file = serverRecordPath(ctx.env);
  const rec = readServerRecord(ctx.env);
  if (!rec) {
    if (ctx.json) ctx.out.json({ running: false, record: file ?? null });
    else {ctx.out.line(
        "agentroom server: not running (none recorded); start one: agentroom server start",
      );}
    return EXIT.failure;
  }
  const answered = await ping(rec.url);
  let version = "";
  let aof = false;
  if (answered) {
    try {
      const info = String(await answered.port.call(["INFO", "server"])) +
        String(await answered.port.call(["INFO", "persistence"]));
      version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "";
      aof = /aof_enabled:1/.test(info);
    } finally {
      await answered.port.close().catch(() => {});
    }
  }
  if (ctx.json) {
    ctx.out.json({ running: answered !== undefined, record: file, version, aof, ...rec });
  } else if (answered) {
    ctx.out.line(
      `agentroom server: running at ${rec.url} (pid ${rec.pid}, redis ${version}, AOF ${
        aof ? "on" : "off"
      }, data in ${rec.dir})`,
    );
  } else {
    ctx.out.line(
      `agentroom server: recorded at ${rec.url} but not answering; run 'agentroom server start'`,
    );
  }
  return answered ? EXIT.ok : EXIT.failure;
}

/** The server command. */
export const server: Command = {
  name: "server",
  actions: ["start", "stop", "status"],
  summary: "start, stop or check a local redis-server (AOF on, loopback or Unix socket)",
  usage: "server start|stop|status [--dir D] [--port P | --socket]",
  details: [
    "start runs redis-server in the background with AOF persistence, bound to 127.0.0.1",
    "(--port, default 6379) or to a Unix socket in a user-only (0700) directory (--socket),",
    "and records it in ~/.local/state/agentroom/server.json ($XDG_STATE_HOME/agentroom).",
    "Every agentroom command and hook then uses it when no Redis is configured (after --redis,",
    "--addr, AGENTROOM_REDIS_URL, REDIS_URL, REDIS_ADDR). A second start reuses a running server.",
    "stop shuts it down (the data stays in --dir); status exits 1 when it is not running.",
  ],
  examples: ["server start", "server start --socket", "server status --json", "server stop"],
  flags: {
    dir: { type: "string", value: "DIR", help: "data directory (default: <state dir>/redis)" },
    port: { type: "string", value: "PORT", help: "TCP port on 127.0.0.1 (default 6379)" },
    socket: { type: "boolean", help: "listen on a Unix socket in DIR instead of TCP" },
  },
  args: { min: 1, max: 1, what: "start, stop or status" },
  run: (ctx) => {
    const action = ctx.line.positionals[0];
    if (action === "start") return start(ctx);
    if (action === "stop") return stop(ctx);
    if (action === "status") return status(ctx);
    throw new UsageError(
      `unknown server action ${JSON.stringify(action)}: use start, stop or status`,
      "server",
    );
  },
};
