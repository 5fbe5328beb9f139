/**
 * Test support for the hooks: runs `hook <event>` in-process through
 * `hookMain(event, io)` (the path `cli.ts` takes) or the real `cli.ts` as a
 * subprocess, with a payload on its stdin; loads the recorded payloads; and
 * checks the fence of a hook's context.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hookMain } from "../../hooks/main.ts";
import { baseEnv, cliArgs, type CliResult, textReader } from "./cli.ts";

export { assertFenced } from "./fence_check.ts";

/** Directory of the recorded hook payloads. */
export const TESTDATA = fileURLToPath(new URL("../testdata/hooks/", import.meta.url));

/** Options of one hook run. */
export interface HookRunOptions {
  /** Environment on top of the clean base (PATH, HOME, NO_COLOR, Redis URL). */
  env?: Record<string, string>;
  /** Hang guard: the process is killed after this many ms. @default 15000 */
  deadlineMs?: number;
  /**
   * Close the reading end of stdout right after the spawn, so the hook's
   * write fails with a broken pipe (as when the harness stops listening).
   */
  closeStdout?: boolean;
}

/** Result of one hook run. */
export interface HookResult extends CliResult {
  /** The signal that ended the process (the hang guard's kill), or `null`. */
  signal: Deno.Signal | null;
}

/**
 * Runs `hook <event>` once in-process with `stdin` as its input, the clean
 * base environment plus `options.env`, and captured output.
 *
 * @param event the hook event (`session-start`, …)
 * @param stdin the payload: an object is sent as JSON, a string as is
 * @param options environment, hang guard (fails the test), failing stdout
 */
export async function runHook(
  event: string,
  stdin: string | Record<string, unknown>,
  options: HookRunOptions = {},
): Promise<HookResult> {
  const env: Record<string, string> = { ...baseEnv(), ...options.env };
  let stdout = "";
  let stderr = "";
  const run = hookMain(event, {
    env: (name) => env[name],
    cwd: Deno.cwd(),
    stdin: textReader(typeof stdin === "string" ? stdin : JSON.stringify(stdin)),
    stdout: (text) => {
      if (options.closeStdout) throw new Deno.errors.BrokenPipe("the reader went away");
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  const deadlineMs = options.deadlineMs ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hook ${event} still running after ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    const code = await Promise.race([run, hung]);
    assert.notEqual(code, undefined, `unknown hook event ${event}`);
    return { code: code!, signal: null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the real `cli.ts hook <event>` once as a subprocess with `stdin` piped in.
 *
 * @param event the hook event (`session-start`, …)
 * @param stdin the payload: an object is sent as JSON, a string as is
 * @param options environment, hang guard, closed stdout
 */
export async function spawnHook(
  event: string,
  stdin: string | Record<string, unknown>,
  options: HookRunOptions = {},
): Promise<HookResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(["hook", event]),
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.deadlineMs ?? 15_000),
  }).spawn();
  const stdout = options.closeStdout
    ? child.stdout.cancel().then(() => new Uint8Array())
    : new Response(child.stdout).bytes();
  const stderr = new Response(child.stderr).bytes();
  const text = typeof stdin === "string" ? stdin : JSON.stringify(stdin);
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // the process may exit without reading stdin (a usage error)
  }
  const [status, out, err] = await Promise.all([child.status, stdout, stderr]);
  const decoder = new TextDecoder();
  return {
    code: status.code,
    signal: status.signal,
    stdout: decoder.decode(out),
    stderr: decoder.decode(err),
  };
}

/**
 * A recorded payload from tests/testdata/hooks with fields replaced.
 *
 * @param name file name without `.json`
 * @param overrides fields to set (`undefined` removes the field)
 */
export function payload(
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const recorded = JSON.parse(Deno.readTextFileSync(`${TESTDATA}${name}.json`));
  const merged: Record<string, unknown> = { ...recorded, ...overrides };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete merged[key];
  }
  return merged;
}

/** A parsed hook output line. */
export interface HookOutput {
  /** `hookSpecificOutput.hookEventName` */
  eventName: string;
  /** `hookSpecificOutput.additionalContext` */
  context: string;
  /** The fence marker, read from the standing notice. */
  marker: string;
}

/**
 * Asserts a successful run printed exactly one `hookSpecificOutput` JSON line
 * with `additionalContext`, and nothing on stderr; returns its parts.
 *
 * @param result the run
 * @param eventName the expected `hookEventName`
 */
export function hookOutput(result: HookResult, eventName: string): HookOutput {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  assert.ok(result.stdout.endsWith("\n"), `one line: ${JSON.stringify(result.stdout)}`);
  assert.equal(result.stdout.indexOf("\n"), result.stdout.length - 1, "exactly one line");
  const json = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(json), ["hookSpecificOutput"]);
  assert.deepEqual(Object.keys(json.hookSpecificOutput), ["hookEventName", "additionalContext"]);
  assert.equal(json.hookSpecificOutput.hookEventName, eventName);
  const context = json.hookSpecificOutput.additionalContext;
  assert.equal(typeof context, "string");
  const marker = context.match(/^Text between \[room-data ([0-9a-f]{12})\] and /m)?.[1];
  assert.ok(marker, `the context has the fence notice:\n${context}`);
  return { eventName, context, marker };
}

/** Asserts a run exited 0 and printed nothing at all. */
export function assertSilent(result: HookResult, what = "the hook"): void {
  assert.equal(result.signal, null, `${what} was killed by the hang guard`);
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, "", `${what} printed ${JSON.stringify(result.stdout)}`);
  assert.equal(result.stderr, "", `${what} wrote to stderr`);
}
