/**
 * `agentroom doctor`: checks that this machine's set-up works, one check per
 * line with ok / warn / fail and the command that fixes it. Exit 1 when any
 * check fails. It reads and measures; it writes nothing but what a hook run
 * writes (a hook's refresh of a presence this session does not have is a no-op).
 *
 * @module
 */
import { join } from "node:path";
import { runHook } from "../../hooks/mod.ts";
import { isNetworkBlocked } from "../redis/connect.ts";
import { connectRedis } from "../redis/connect.ts";
import type { RedisPort } from "../redis/port.ts";
import { gitRoom } from "../process/git.ts";
import { resolveEndpointSource } from "../process/settings.ts";
import { readServerRecord } from "../process/server_state.ts";
import { InvalidValueError } from "../errors.ts";
import { roomConfig } from "../config.ts";
import { readSchemaVersion, SCHEMA_VERSION } from "../schema.ts";
import { UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { networkAccess } from "./codex_config.ts";
import { EXIT } from "./errors.ts";
import { HOOK_EVENT_KEYS, isAgentroomCommand } from "./hook_settings.ts";
import { PI_MARKER } from "./pi_extension.ts";
import { codexConfigPath, currentRunner, findOnPath, projectRoot, settingsPath } from "./setup.ts";
import { piExtensionPath } from "./setup_pi.ts";

/** The outcome of one check. */
export interface Check {
  /** Short name, e.g. `redis`, `eviction`, `hooks claude`. */
  name: string;
  /** `ok`, `warn` (works, but something will bite) or `fail` (does not work). */
  status: "ok" | "warn" | "fail";
  /** What was found. */
  detail: string;
  /** The command (or step) that fixes it, for warn and fail. */
  fix?: string;
}

/** Oldest Redis agentroom supports. */
export const MIN_REDIS: readonly [number, number] = [6, 2];

const FEATURES: readonly [string, number, number][] = [
  ["GETEX, XAUTOCLAIM, SET GET (needed)", 6, 2],
  ["functions, sharded pub/sub", 7, 0],
  ["hash-field expiry", 7, 4],
];

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(".").map((n) => Number(n) || 0);
  return a > major || (a === major && b >= minor);
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:([^\\r\\n]*)`, "m").exec(info)?.[1];
}

async function configGet(redis: RedisPort, name: string): Promise<string | undefined> {
  try {
    const reply = await redis.call(["CONFIG", "GET", name]);
    return Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : undefined;
  } catch {
    return undefined; // CONFIG is disabled or renamed on many managed services
  }
}

async function redisChecks(ctx: Context, checks: Check[]): Promise<RedisPort | undefined> {
  let resolved;
  try {
    resolved = resolveEndpointSource(
      { redis: ctx.flag("redis"), addr: ctx.flag("addr") },
      ctx.env,
    );
  } catch (error) {
    if (error instanceof InvalidValueError) throw new UsageError(error.message, "doctor");
    throw error;
  }
  const { endpoint, source } = resolved;
  const from = source === "default"
    ? "the default; nothing configured and no local server recorded"
    : source.startsWith("-") || /^[A-Z_]+$/.test(source)
    ? source
    : `the local server recorded in ${source}`;
  let redis: RedisPort;
  try {
    redis = await connectRedis(endpoint, {
      transport: ctx.settings.transport,
      cluster: ctx.settings.cluster,
      connectTimeoutMs: 1500,
    });
  } catch (error) {
    const blocked = isNetworkBlocked(error);
    checks.push({
      name: "redis",
      status: "fail",
      detail: `${endpoint.display} (from ${from}) is not reachable: ${
        (error as Error).message.replace(/\s+/g, " ")
      }`,
      fix: blocked
        ? "this process may not use the network (a sandbox?): in Codex run 'agentroom setup codex --allow-network'"
        : source === "default" || /server\.json$/.test(source)
        ? "agentroom server start"
        : `start that Redis, or point AGENTROOM_REDIS_URL at a running one (or run 'agentroom server start' and unset ${source})`,
    });
    return undefined;
  }
  const t0 = Date.now();
  const info = String(await redis.call(["INFO", "server"]));
  const rtt = Date.now() - t0;
  const version = infoField(info, "redis_version") ?? "0";
  const mode = infoField(info, "redis_mode") ?? "standalone";
  checks.push({
    name: "redis",
    status: "ok",
    detail: `${endpoint.display} (from ${from}): redis ${version} ${mode}, ${rtt} ms round trip`,
  });
  const features = FEATURES.filter(([, a, b]) => versionAtLeast(version, a, b)).map(([f]) => f);
  checks.push(
    versionAtLeast(version, MIN_REDIS[0], MIN_REDIS[1])
      ? { name: "version", status: "ok", detail: `${version}; has ${features.join("; ")}` }
      : {
        name: "version",
        status: "fail",
        detail: `${version} is older than ${MIN_REDIS.join(".")} (GETEX, XAUTOCLAIM are missing)`,
        fix:
          "upgrade Redis to 6.2 or newer (or run 'agentroom server start' with a newer redis-server)",
      },
  );

  const policy = await configGet(redis, "maxmemory-policy");
  if (policy === undefined) {
    checks.push({
      name: "eviction",
      status: "warn",
      detail: "cannot read maxmemory-policy (CONFIG GET is not allowed)",
      fix: "ask the Redis operator to set maxmemory-policy noeviction",
    });
  } else if (policy === "noeviction") {
    checks.push({ name: "eviction", status: "ok", detail: "maxmemory-policy noeviction" });
  } else {
    checks.push({
      name: "eviction",
      status: "warn",
      detail: `maxmemory-policy ${policy}: under memory pressure Redis drops keys, ` +
        "leases and claims included",
      fix: "redis-cli CONFIG SET maxmemory-policy noeviction (and set it in redis.conf)",
    });
  }

  const persistence = String(await redis.call(["INFO", "persistence"]));
  const aof = infoField(persistence, "aof_enabled") === "1";
  const save = await configGet(redis, "save");
  if (aof) checks.push({ name: "persistence", status: "ok", detail: "AOF on" });
  else if (save) {
    checks.push({ name: "persistence", status: "ok", detail: `RDB snapshots (save ${save})` });
  } else if (save === undefined) {
    checks.push({
      name: "persistence",
      status: "warn",
      detail: "AOF off, and the RDB schedule cannot be read",
      fix: "redis-cli CONFIG SET appendonly yes (and appendonly yes in redis.conf)",
    });
  } else {
    checks.push({
      name: "persistence",
      status: "warn",
      detail: "off (no AOF, no RDB snapshots): a Redis restart loses every room",
      fix: "redis-cli CONFIG SET appendonly yes, or use 'agentroom server start' (AOF on)",
    });
  }

  const before = Date.now();
  const time = await redis.call(["TIME"]) as string[];
  const after = Date.now();
  const server = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const skew = server - Math.round((before + after) / 2);
  checks.push(
    Math.abs(skew) <= 2000
      ? { name: "clock", status: "ok", detail: `within ${Math.abs(skew)} ms of the server` }
      : {
        name: "clock",
        status: "warn",
        detail: `${(skew / 1000).toFixed(1)} s off the server's clock; leases use the server's ` +
          "time, but times you pass and read will look shifted",
        fix: "sync this machine's clock (e.g. 'sudo timedatectl set-ntp true')",
      },
  );
  return redis;
}

function roomCheck(ctx: Context): Check {
  const { repo, branch } = ctx.settings;
  const why: string[] = [];
  const git = gitRoom(ctx.cwd);
  const repoFrom = ctx.flag("repo") !== undefined
    ? "--repo"
    : ctx.env("REPO_ID")
    ? "REPO_ID"
    : git
    ? `the git toplevel ${git.toplevel}`
    : `the directory name of ${ctx.cwd}`;
  const branchFrom = repo === "lobby"
    ? "the lobby"
    : ctx.flag("branch") !== undefined
    ? "--branch"
    : ctx.env("BRANCH_NAME")
    ? "BRANCH_NAME"
    : git
    ? "the current git branch"
    : "the default";
  why.push(`repo from ${repoFrom}`, `branch from ${branchFrom}`);
  return { name: "room", status: "ok", detail: `${repo}:${branch} (${why.join(", ")})` };
}

const TOKEN_SOURCES: readonly [string, string][] = [
  ["AGENTROOM_SESSION_ID", "agentroom"],
  ["CLAUDE_CODE_SESSION_ID", "Claude Code"],
  ["CLAUDE_SESSION_ID", "Claude Code"],
  ["CODEX_THREAD_ID", "Codex"],
  ["TERM_SESSION_ID", "the terminal"],
];

function identityCheck(ctx: Context): Check {
  const token = ctx.settings.token;
  const found = TOKEN_SOURCES.find(([name]) => (ctx.env(name) ?? "").trim() !== "");
  const agent = ctx.identity.agent_id;
  return {
    name: "identity",
    status: "ok",
    detail: found
      ? `${agent} (session token ${token} from ${found[0]}, set by ${found[1]})`
      : `${agent} (session token ${token} from host and parent pid: no harness session ` +
        "variable here; inside a harness its session id is used)",
  };
}

/** Shell words of a command (single and double quotes, backslash escapes). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < command.length) current += command[++i];
      else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < command.length) {
      current += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/**
 * The files a hook command needs that do not exist: its program (a path, or
 * a name looked up on PATH) and, for `deno run`, the entry script.
 */
function missingFiles(words: readonly string[], env: Context["env"]): string[] {
  const missing: string[] = [];
  const program = words[0];
  if (program === undefined) return ["(empty command)"];
  const exists = (path: string) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  };
  if (program.includes("/") || program.includes("\\")) {
    if (!exists(program)) missing.push(program);
  } else if (!findOnPath(program, env)) missing.push(`${program} (not on PATH)`);
  const script = words.find((w, i) => i > 0 && /\.(ts|js)$/.test(w) && !/^[a-z]+:/.test(w));
  if (script && !exists(script)) missing.push(script);
  return missing;
}

/** This agentroom's own paths (the executable, or deno and `cli.ts` from source). */
function selfPaths(): string[] {
  const runner = currentRunner();
  return runner.kind === "binary"
    ? [runner.executable]
    : runner.kind === "source"
    ? [runner.script]
    : [];
}

interface Found {
  file: string;
  events: Set<string>;
  missing: string[];
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Deno.readTextFileSync(file));
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function hooksIn(file: string, env: Context["env"]): Found | undefined {
  const settings = readJson(file);
  const hooks = settings?.hooks;
  if (typeof hooks !== "object" || hooks === null) return undefined;
  const found: Found = { file, events: new Set(), missing: [] };
  for (const event of HOOK_EVENT_KEYS) {
    const groups = (hooks as Record<string, unknown>)[event];
    if (!Array.isArray(groups)) continue;
    for (const group of groups) {
      const handlers = (group as { hooks?: unknown })?.hooks;
      if (!Array.isArray(handlers)) continue;
      for (const handler of handlers) {
        const command = (handler as { command?: unknown })?.command;
        if (typeof command !== "string" || !isAgentroomCommand(command, selfPaths())) continue;
        found.events.add(event);
        for (const m of missingFiles(shellWords(command), env)) {
          if (!found.missing.includes(m)) found.missing.push(m);
        }
      }
    }
  }
  return found.events.size > 0 ? found : undefined;
}

function harnessChecks(ctx: Context): Check[] {
  const checks: Check[] = [];
  const home = ctx.env("HOME") || ctx.env("USERPROFILE") || undefined;
  const root = projectRoot(ctx.cwd);
  const names = { claude: "Claude Code", codex: "Codex" } as const;
  let codexFiles: string[] = [];
  for (const harness of ["claude", "codex"] as const) {
    const scopes = harness === "claude"
      ? (["user", "project", "local"] as const)
      : (["user", "project"] as const);
    const found: Found[] = [];
    for (const scope of scopes) {
      let file: string;
      try {
        file = settingsPath(harness, scope, ctx.env, ctx.cwd);
      } catch {
        continue; // no HOME: no user scope
      }
      const f = hooksIn(file, ctx.env);
      if (f) found.push(f);
    }
    if (harness === "codex") codexFiles = found.map((f) => f.file);
    checks.push(hookCheck(`hooks ${harness}`, names[harness], found, `agentroom setup ${harness}`));
    if (harness === "claude" && found.length > 0) {
      const trust = claudeTrust(ctx, root, home);
      if (trust) checks.push(trust);
    }
  }

  const piFiles: Found[] = [];
  for (const scope of ["user", "project"] as const) {
    let file: string;
    try {
      file = piExtensionPath(scope, root, home);
    } catch {
      continue;
    }
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    if (!text.includes(PI_MARKER)) continue;
    const argv = /const AGENTROOM: string\[\] = (\[.*\]);/.exec(text)?.[1];
    let words: string[] = [];
    try {
      words = argv ? JSON.parse(argv) : [];
    } catch {
      words = [];
    }
    piFiles.push({
      file,
      events: new Set(HOOK_EVENT_KEYS),
      missing: words.length > 0 ? missingFiles(words, ctx.env) : [],
    });
  }
  checks.push(hookCheck("hooks pi", "pi", piFiles, "agentroom setup pi"));

  for (const hooksFile of codexFiles) {
    const config = codexConfigPath(hooksFile);
    let text = "";
    try {
      text = Deno.readTextFileSync(config);
    } catch {
      // a missing config is "unset"
    }
    let state: string;
    try {
      state = networkAccess(text, config);
    } catch (error) {
      state = `unreadable (${(error as Error).message})`;
    }
    checks.push(
      state === "on"
        ? { name: "codex sandbox", status: "ok", detail: `network_access = true in ${config}` }
        : {
          name: "codex sandbox",
          status: "warn",
          detail: `network access is ${state} in ${config}: Codex's workspace-write sandbox ` +
            "blocks the hooks' and commands' connection to Redis",
          fix: "agentroom setup codex --allow-network",
        },
    );
  }
  return checks;
}

/**
 * Claude Code's workspace trust for the project, where its state file
 * (`~/.claude.json`, or `.claude.json` in `CLAUDE_CONFIG_DIR`) records it;
 * `undefined` when it cannot be read or says nothing about this project.
 */
function claudeTrust(ctx: Context, root: string, home: string | undefined): Check | undefined {
  const dir = ctx.env("CLAUDE_CONFIG_DIR") || home;
  if (!dir) return undefined;
  const file = join(dir, ".claude.json");
  const projects = readJson(file)?.projects;
  if (typeof projects !== "object" || projects === null) return undefined;
  const entry = (projects as Record<string, unknown>)[root];
  const accepted = (entry as { hasTrustDialogAccepted?: unknown } | undefined)
    ?.hasTrustDialogAccepted;
  if (typeof accepted !== "boolean") return undefined;
  return accepted
    ? { name: "claude trust", status: "ok", detail: `${root} is trusted (${file})` }
    : {
      name: "claude trust",
      status: "warn",
      detail: `${root} is not trusted yet (${file}): Claude Code runs no hooks from settings ` +
        "files in an untrusted workspace",
      fix: "start 'claude' in this project once and accept the trust dialog (claude -p skips it)",
    };
}

function hookCheck(name: string, label: string, found: Found[], fix: string): Check {
  if (found.length === 0) {
    return { name, status: "warn", detail: `${label}: no agentroom hooks installed`, fix };
  }
  const broken = found.filter((f) => f.missing.length > 0);
  if (broken.length > 0) {
    return {
      name,
      status: "fail",
      detail: broken.map((f) => `${f.file} runs ${f.missing.join(", ")}, which does not exist`)
        .join("; "),
      fix: `${fix} (rewrites the hooks to this agentroom)`,
    };
  }
  const partial = found.filter((f) => f.events.size < HOOK_EVENT_KEYS.length);
  const where = found.map((f) => `${f.file} (${f.events.size} of ${HOOK_EVENT_KEYS.length})`);
  if (partial.length > 0) {
    return {
      name,
      status: "warn",
      detail: `${label}: some hooks are missing: ${where.join(", ")}`,
      fix,
    };
  }
  return { name, status: "ok", detail: `${label}: ${where.join(", ")}` };
}

async function hookLatency(ctx: Context): Promise<Check> {
  const runs: number[] = [];
  const stdin = JSON.stringify({
    session_id: `doctor-${crypto.randomUUID()}`,
    hook_event_name: "PreToolUse",
    cwd: ctx.cwd,
    tool_name: "Edit",
    tool_input: { file_path: join(ctx.cwd, `.agentroom-doctor-${crypto.randomUUID()}`) },
  });
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await runHook("pre-tool-use", {
      stdin,
      env: ctx.env,
      cwd: ctx.cwd,
      write: () => {},
    });
    runs.push(performance.now() - start);
  }
  runs.sort((a, b) => a - b);
  const median = runs[1]!;
  // hooks take no flags: they find Redis through the environment (or the recorded server)
  const { endpoint, source } = resolveEndpointSource({}, ctx.env);
  const detail = `pre-tool-use on an unleased file: ${median.toFixed(1)} ms median of 3, in ` +
    "this process (add the executable's start, tens of ms)" +
    (ctx.flag("redis") !== undefined || ctx.flag("addr") !== undefined
      ? `; hooks take no flags and use ${endpoint.display} (from ${source})`
      : "");
  return median < 500 ? { name: "hook latency", status: "ok", detail } : {
    name: "hook latency",
    status: "warn",
    detail: `${detail}; the hook deadline is 1500 ms`,
    fix: "use a Redis closer to this machine ('agentroom server start')",
  };
}

async function schemaCheck(ctx: Context, redis: RedisPort): Promise<Check> {
  const config = roomConfig({ repo: ctx.settings.repo, branch: ctx.settings.branch });
  const stored = await readSchemaVersion(redis, config);
  if (stored === undefined) {
    return {
      name: "schema",
      status: "ok",
      detail: `no layout recorded (no event written since versions are recorded); this ` +
        `agentroom writes layout ${SCHEMA_VERSION}`,
    };
  }
  if (stored > SCHEMA_VERSION || stored < 0) {
    return {
      name: "schema",
      status: "fail",
      detail: `the room uses data layout ${stored}, newer than this agentroom's ` +
        `${SCHEMA_VERSION}: it refuses to write there`,
      fix: "upgrade agentroom on this machine",
    };
  }
  return { name: "schema", status: "ok", detail: `data layout ${stored}` };
}

/** Renders checks for a terminal. */
export function renderChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length)) + 2;
  const lines: string[] = [];
  for (const check of checks) {
    lines.push(`${check.status.padEnd(5)} ${check.name.padEnd(width)}${check.detail}`);
    if (check.fix) lines.push(`${" ".repeat(6 + width)}fix: ${check.fix}`);
  }
  return lines.join("\n");
}

/** The doctor command. */
export const doctor: Command = {
  name: "doctor",
  summary: "check Redis, the room, identity, installed hooks and hook latency",
  usage: "doctor [--json]",
  details: [
    "Each check prints ok, warn or fail, and for warn and fail the command that fixes it.",
    "Exits 1 when any check fails (warnings alone exit 0).",
  ],
  examples: ["doctor", "doctor --json"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const checks: Check[] = [];
    const redis = await redisChecks(ctx, checks);
    try {
      checks.push(roomCheck(ctx));
      if (redis) checks.push(await schemaCheck(ctx, redis));
      checks.push(identityCheck(ctx));
      const record = readServerRecord(ctx.env);
      if (record) {
        checks.push({
          name: "local server",
          status: "ok",
          detail: `recorded: ${record.url} (pid ${record.pid}, data in ${record.dir})`,
        });
      }
      checks.push(...harnessChecks(ctx));
      if (redis) checks.push(await hookLatency(ctx));
    } finally {
      await redis?.close().catch(() => {});
    }
    const failed = checks.some((c) => c.status === "fail");
    if (ctx.json) ctx.out.json({ ok: !failed, checks });
    else ctx.out.line(renderChecks(checks));
    return failed ? EXIT.failure : EXIT.ok;
  },
};
