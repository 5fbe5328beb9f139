/**
 * Running the CLI and the hooks from the chaos suite: in-process
 * (`main(args, io)`, `runHook(event, io)`: fast, for volume) and as real
 * subprocesses of `cli.ts` with exactly the executable's permissions.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { runHook } from "../../hooks/mod.ts";
import { main } from "../../src/cli/main.ts";
import { RUN_PERMISSIONS } from "../permissions.ts";
import { track } from "./_lib.ts";

/** Path of the CLI entry point. */
export const CLI: string = fileURLToPath(new URL("../../cli.ts", import.meta.url));
/** Directory of the recorded hook payloads. */
export const HOOK_PAYLOADS: string = fileURLToPath(
  new URL("../../tests/testdata/hooks/", import.meta.url),
);

/** The result of one run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the run in ms. */
  ms: number;
}

/** The clean base environment of a run (PATH, HOME, NO_COLOR). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", RUST_BACKTRACE: "0" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function reader(text: string) {
  let rest = new TextEncoder().encode(text);
  return {
    read(buffer: Uint8Array) {
      if (rest.length === 0) return Promise.resolve(null);
      const count = Math.min(buffer.length, rest.length);
      buffer.set(rest.subarray(0, count));
      rest = rest.subarray(count);
      return Promise.resolve(count);
    },
  };
}

/** Runs the CLI in-process with exactly `env` (on top of the clean base). */
export async function cliInProcess(
  args: string[],
  env: Record<string, string>,
  stdin = "",
): Promise<RunResult> {
  const all = { ...baseEnv(), ...env };
  let stdout = "";
  let stderr = "";
  const start = performance.now();
  const code = await main(args, {
    env: (name) => all[name],
    cwd: Deno.cwd(),
    stdout: (text) => void (stdout += text),
    stdoutBytes: (bytes) => void (stdout += new TextDecoder().decode(bytes)),
    stderr: (text) => void (stderr += text),
    stdin: reader(stdin),
    hostname: () => "chaos-host",
    ppid: Deno.pid,
    onInterrupt: () => () => {},
  });
  return { code, stdout, stderr, ms: performance.now() - start };
}

/** Runs one hook in-process with `stdin` as its payload. */
export async function hookInProcess(
  event: string,
  stdin: string,
  env: Record<string, string>,
): Promise<RunResult> {
  const all = { ...baseEnv(), ...env };
  let stdout = "";
  const stderr = "";
  const start = performance.now();
  const code = await runHook(event, {
    stdin,
    env: (name) => all[name],
    cwd: Deno.cwd(),
    write: (line) => void (stdout += line + "\n"),
  });
  return { code, stdout, stderr, ms: performance.now() - start };
}

/**
 * Runs the real `cli.ts` as a subprocess with the executable's permissions,
 * a clean environment plus `env`, and `stdin`; killed after `deadlineMs`.
 */
export async function cliProcess(
  args: string[],
  env: Record<string, string>,
  stdin = "",
  deadlineMs = 20_000,
): Promise<RunResult & { signal: Deno.Signal | null }> {
  const start = performance.now();
  const child = track(
    new Deno.Command(Deno.execPath(), {
      // an argument cannot hold NUL: the OS takes it as the end
      args: [
        "run",
        "--quiet",
        ...RUN_PERMISSIONS,
        CLI,
        ...args.map((a) => a.replaceAll("\0", "?")),
      ],
      env: Object.fromEntries(
        Object.entries({ ...baseEnv(), ...env }).map(([k, v]) => [k, v.replaceAll("\0", "?")]),
      ),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(deadlineMs),
    }).spawn(),
  );
  const out = new Response(child.stdout).text();
  const err = new Response(child.stderr).text();
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  } catch { /* it may exit without reading stdin */ }
  const status = await child.status;
  return {
    code: status.code,
    signal: status.signal,
    stdout: await out,
    stderr: await err,
    ms: performance.now() - start,
  };
}

/** A recorded hook payload (tests/testdata/hooks/<name>.json) with fields replaced. */
export function hookPayload(
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const recorded = JSON.parse(Deno.readTextFileSync(`${HOOK_PAYLOADS}${name}.json`));
  return { ...recorded, ...overrides };
}

/** The hook events and a recorded payload of each (Claude Code shapes). */
export const HOOK_CASES: readonly [string, string][] = [
  ["session-start", "claude_session_start"],
  ["user-prompt-submit", "claude_user_prompt_submit"],
  ["pre-tool-use", "claude_pre_tool_use_edit"],
  ["post-tool-use", "claude_post_tool_use"],
  ["stop", "claude_stop"],
  ["session-end", "claude_session_end"],
];

/** A stack trace line (`    at foo (file:...)`) or an uncaught error banner. */
export const STACK_TRACE = /^\s+at .+[:(]|^error: Uncaught|^Error: |\bStack trace\b/m;
