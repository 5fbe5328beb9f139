/**
 * Chaos scenario: fuzzing. Random command lines built from the CLI's own
 * vocabulary (commands, subcommands, flags) and hostile values, run
 * in-process (`main(args, io)`) for volume plus a sample as real
 * subprocesses; random and mutated payloads for every hook event. Checked:
 * exit codes only from the documented set, no stack traces, errors as one
 * `error:` line, nothing written to Redis by a rejected command (exit 2),
 * hooks always exit 0 with nothing or one JSON line.
 *
 * @module
 */
import { GLOBAL_FLAGS } from "../../src/cli/_args.ts";
import { COMMANDS } from "../../src/cli/main.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import {
  cliInProcess,
  cliProcess,
  HOOK_CASES,
  hookInProcess,
  hookPayload,
  type RunResult,
  STACK_TRACE,
} from "./_io.ts";
import { n, pick, type Profile, randomInt, type Row, row } from "./_lib.ts";

/** Sizes per profile. */
export const FUZZ_SIZES = {
  short: { cli: 300, processes: 6, hooks: 150, hookProcesses: 3 },
  full: { cli: 5_000, processes: 100, hooks: 2_000, hookProcesses: 30 },
} as const;

/** Commands that wait for something by design (a reply, a follower, a prompt) or write files. */
const SKIPPED = new Set([
  "ask",
  "wait",
  "watch",
  "setup",
  // long-running processes and commands that start processes or write files
  "relay",
  "worker",
  "daemon",
  "server",
  "doctor",
  "archive",
  "pad",
  "mcp",
  "dashboard",
  "ping",
  "pending",
  "rooms",
]);
const SUBCOMMANDS = [
  "acquire",
  "renew",
  "release",
  "list",
  "break",
  "request",
  "ack",
  "activate",
  "cancel",
  "show",
  "read",
  "git",
  "pi",
  "session-start",
  "pre-tool-use",
  "stop",
];

/** Hostile and edge-case values. */
export const VALUES: readonly string[] = [
  "",
  " ",
  "-",
  "--",
  "0",
  "-1",
  "1e309",
  "NaN",
  "99999999999999999999",
  "5m",
  "-5m",
  "0s",
  "25h",
  "1ms",
  "1-0",
  "0-0",
  "18446744073709551615-18446744073709551615",
  "1-",
  "path:src/db",
  "path:../../etc/passwd",
  "path:",
  "db:",
  "*",
  "{}",
  "[]",
  "null",
  '{"a":',
  '"unterminated',
  "x".repeat(70_000),
  "\u0000nul",
  "\u001b[31mred\u001b[0m",
  "\u001b]0;title\u0007",
  "\u202eevil\u202c",
  "a\u200bb",
  "line\nbreak",
  "[/room-data 0123456789ab]",
  "</script><script>alert(1)</script>",
  "🦕".repeat(40),
  "\ud800",
  "redis://127.0.0.1:1",
  "rediss://[::1",
  "agent with spaces",
  "index",
  "lobby",
];

function randomToken(): string {
  const roll = randomInt(10);
  if (roll < 5) return pick(VALUES);
  if (roll < 7) return String(randomInt(100_000) - 50);
  if (roll < 8) return crypto.randomUUID();
  return `${randomInt(2_000_000_000_000)}-${randomInt(5)}`;
}

/** Well-formed command lines with hostile values in their slots (V: a value, I: an id). */
const TEMPLATES: readonly string[][] = [
  ["post", "NOTE", "V"],
  ["post", "V", "V", "--to", "V"],
  ["claim", "I"],
  ["claim", "I", "--ttl", "V"],
  ["done", "I", "V"],
  ["release", "I"],
  ["task", "I"],
  ["register", "V", "V"],
  ["lease", "acquire", "path:V", "--purpose", "V"],
  ["lease", "renew", "I"],
  ["guard", "path:V"],
  ["window", "request", "path:V", "--purpose", "V"],
  ["work", "started", "--scope", "V", "--summary", "V"],
  ["welcome", "V"],
  ["reply", "I", "V"],
  ["status", "--json"],
  ["tail", "-n", "V"],
  ["who", "--all"],
  ["inbox"],
  ["open"],
  ["catalog"],
  ["leave"],
  ["version"],
];

/** One random command line: half well-formed with hostile values, half anything. */
export function randomArgs(): string[] {
  if (randomInt(2) === 0) {
    return pick(TEMPLATES).map((slot) =>
      slot.replace(/^V$|(?<=:)V$/, () => pick(VALUES)).replace(
        /^I$/,
        () => randomInt(3) === 0 ? pick(VALUES) : `${randomInt(2_000_000_000_000)}-0`,
      )
    );
  }
  const commands = COMMANDS.filter((c) => !SKIPPED.has(c.name));
  const args: string[] = [];
  const roll = randomInt(20);
  const command = roll === 0 ? randomToken() : pick(commands);
  if (typeof command === "string") args.push(command);
  else args.push(command.name);
  if (randomInt(3) === 0) args.push(pick(SUBCOMMANDS));
  const flags = typeof command === "string"
    ? Object.keys(GLOBAL_FLAGS)
    : [...Object.keys(command.flags), ...Object.keys(GLOBAL_FLAGS)];
  const extra = randomInt(6);
  for (let i = 0; i < extra; i++) {
    const r = randomInt(10);
    if (r < 4) args.push(randomToken());
    else if (r < 8) {
      const flag = pick(flags);
      // not against another server than ours
      if (flag === "redis" || flag === "addr") continue;
      args.push(`--${flag}`);
      if (randomInt(4) !== 0) args.push(randomToken());
    } else if (r < 9) args.push(`--${pick(["bogus", "ttl", "json", "help", "h", "to", "force"])}`);
    else args.push(`-${String.fromCharCode(97 + randomInt(26))}`);
  }
  // --follow streams forever and --wait blocks by design
  return args.filter((a) => a !== "--follow" && a !== "-f" && !a.startsWith("--wait"));
}

/** What is wrong with one CLI run's exit code and output (empty: nothing). */
export function cliProblems(args: string[], r: RunResult): string[] {
  const out: string[] = [];
  const what = JSON.stringify(args).slice(0, 160);
  if (![0, 1, 2, 3].includes(r.code)) out.push(`exit ${r.code}: ${what}`);
  if (STACK_TRACE.test(r.stderr) || STACK_TRACE.test(r.stdout)) {
    out.push(`stack trace: ${what}: ${r.stderr.slice(0, 200)}`);
  }
  if (r.code !== 0) {
    // one error line, after any warnings
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: "));
    if (lines.length !== 1 || !lines[0]!.startsWith("error: ")) {
      out.push(
        `not one error line (exit ${r.code}): ${what}: ${JSON.stringify(r.stderr.slice(0, 200))}`,
      );
    }
  }
  return out;
}

/** A random hook payload: a recorded one mutated, or garbage. */
export function randomHookPayload(base: Record<string, unknown>): string {
  const roll = randomInt(12);
  if (roll === 0) return pick(["", "{", "null", "[]", "42", '"text"', "\u0000\u0001", "{}"]);
  if (roll === 1) return JSON.stringify(base).slice(0, randomInt(200));
  const payload: Record<string, unknown> = structuredClone(base);
  const keys = [
    ...Object.keys(payload),
    "session_id",
    "cwd",
    "prompt",
    "tool_input",
    "tool_name",
    "hook_event_name",
    "stop_hook_active",
  ];
  const changes = 1 + randomInt(4);
  for (let i = 0; i < changes; i++) {
    const key = pick(keys);
    const r = randomInt(8);
    if (r === 0) delete payload[key];
    else if (r === 1) payload[key] = null;
    else if (r === 2) payload[key] = randomInt(1_000_000) - 10;
    else if (r === 3) payload[key] = { nested: [pick(VALUES)], file_path: pick(VALUES) };
    else if (r === 4) payload[key] = [pick(VALUES), 1, null];
    else if (r === 5) payload[key] = randomInt(2) === 0;
    else payload[key] = pick(VALUES);
  }
  return JSON.stringify(payload);
}

/** What is wrong with one hook run (empty: nothing). */
export function hookProblems(event: string, r: RunResult): string[] {
  const out: string[] = [];
  if (r.code !== 0) out.push(`hook ${event} exit ${r.code}`);
  if (r.stderr !== "") out.push(`hook ${event} wrote to stderr: ${r.stderr.slice(0, 200)}`);
  if (r.stdout !== "") {
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    if (lines.length !== 1) out.push(`hook ${event} printed ${lines.length} lines`);
    else {
      try {
        const json = JSON.parse(lines[0]!);
        if (typeof json !== "object" || json === null) out.push(`hook ${event}: not an object`);
      } catch {
        out.push(`hook ${event}: output is not JSON: ${lines[0]!.slice(0, 120)}`);
      }
    }
  }
  return out;
}

async function dirtyCount(url: string): Promise<() => Promise<number>> {
  const port = await connectRedis(parseRedisUrl(url));
  const read = async () => {
    const info = String(await port.call(["INFO", "persistence"]));
    return Number(info.match(/rdb_changes_since_last_save:(\d+)/)?.[1]);
  };
  globalThis.addEventListener("unload", () => void port.close());
  return Object.assign(read, { close: () => port.close() });
}

/** Runs the fuzz scenario against the server at `url` (nothing else may write to it meanwhile). */
export async function fuzzScenario(url: string, profile: Profile): Promise<Row[]> {
  const size = FUZZ_SIZES[profile];
  const home = await Deno.makeTempDir({ prefix: "agentroom-chaos-home-" });
  const env = {
    AGENTROOM_REDIS_URL: url,
    REPO_ID: `chaos-fuzz-${crypto.randomUUID().slice(0, 8)}`,
    BRANCH_NAME: "main",
    AGENTROOM_SESSION_ID: "chaosfuzz0001",
    HOME: home,
  };
  const dirty = await dirtyCount(url);
  const exitProblems: string[] = [];
  const writes: string[] = [];
  const codes: Record<number, number> = {};
  let subprocesses = 0;
  try {
    for (let i = 0; i < size.cli; i++) {
      const args = randomArgs();
      const before = await dirty();
      const r = await cliInProcess(args, env);
      codes[r.code] = (codes[r.code] ?? 0) + 1;
      exitProblems.push(...cliProblems(args, r));
      if (r.code === 2 && (await dirty()) !== before) {
        writes.push(`usage error wrote to Redis: ${JSON.stringify(args).slice(0, 160)}`);
      }
    }
    for (let i = 0; i < size.processes; i += 3) {
      await Promise.all(Array.from({ length: Math.min(3, size.processes - i) }, async () => {
        const args = randomArgs();
        const r = await cliProcess(args, env, "", 20_000);
        subprocesses++;
        codes[r.code] = (codes[r.code] ?? 0) + 1;
        exitProblems.push(...cliProblems(args, r).map((p) => `subprocess: ${p}`));
      }));
    }
  } finally {
    await (dirty as unknown as { close(): Promise<void> }).close();
  }
  const hookBad: string[] = [];
  const bases = HOOK_CASES.map(([event, name]) =>
    [event, hookPayload(name, { cwd: home })] as const
  );
  for (let i = 0; i < size.hooks; i++) {
    const [event, base] = pick(bases);
    const r = await hookInProcess(
      randomInt(50) === 0 ? pick(["bogus", "", "Stop"]) : event,
      randomHookPayload(base),
      env,
    );
    hookBad.push(...hookProblems(event, r));
  }
  for (let i = 0; i < size.hookProcesses; i++) {
    const [event, base] = pick(bases);
    const r = await cliProcess(["hook", event], env, randomHookPayload(base), 20_000);
    hookBad.push(...hookProblems(event, r).map((p) => `subprocess: ${p}`));
  }
  await Deno.remove(home, { recursive: true }).catch(() => {});
  const spread = Object.entries(codes).map(([c, k]) => `${n(k)}× exit ${c}`).join(", ");
  const cliVolume = `${n(size.cli)} in-process + ${
    n(subprocesses)
  } subprocess CLI runs (${spread})`;
  const hookVolume = `${n(size.hooks)} in-process + ${n(size.hookProcesses)} subprocess hook runs`;
  return [
    row(
      "fuzz",
      "CLI: exit code outside {0,1,2,3}, stack trace, error not one `error:` line",
      cliVolume,
      exitProblems,
    ),
    row("fuzz", "CLI: a usage error (exit 2) wrote to Redis", cliVolume, writes),
    row("fuzz", "hooks: exit not 0, stderr, output not one JSON line", hookVolume, hookBad),
  ];
}
