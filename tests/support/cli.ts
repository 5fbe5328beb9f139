/**
 * Test support: runs the real `cli.ts` as a subprocess with exactly the
 * permission flags the compiled binary gets, in a clean environment.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUN_PERMISSIONS } from "../../scripts/permissions.ts";
import { shared } from "./redis.ts";

/** Path of the CLI entry point. */
export const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Environment on top of the clean base (PATH, HOME, NO_COLOR, Redis URL). */
  env?: Record<string, string>;
  /** Hang guard: the process is killed after this many ms. @default 15000 */
  deadlineMs?: number;
  /** Working directory. */
  cwd?: string;
}

/** The clean base environment of a CLI run. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    RUST_BACKTRACE: "0",
    AGENTROOM_REDIS_URL: shared.url,
  };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The arguments that start the CLI (after `Deno.execPath()`). */
export function cliArgs(args: string[]): string[] {
  return ["run", "--quiet", ...RUN_PERMISSIONS, CLI, ...args];
}

/** Runs the CLI once and collects its output. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.deadlineMs ?? 15_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** An agent bound to one room and session, for readable tests. */
export function agent(repo: string, session: string, handle?: string) {
  const env: Record<string, string> = {
    REPO_ID: repo,
    BRANCH_NAME: "main",
    AGENTROOM_SESSION_ID: session,
  };
  if (handle !== undefined) env.AGENTROOM_AGENT = handle;
  return {
    env,
    run: (args: string[], extra: RunOptions = {}) =>
      runCli(args, { ...extra, env: { ...env, ...extra.env } }),
  };
}

/** Asserts a run exited 0 (naming `what` and its stderr otherwise) and returns it. */
export function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
}

/** Runs `jobs` at most `width` at a time (each CLI run is a process). */
export async function inBatches<T>(jobs: (() => Promise<T>)[], width = 8): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) {
    out.push(...await Promise.all(jobs.slice(i, i + width).map((job) => job())));
  }
  return out;
}

/** A directory holding an `agentroom` that runs this checkout's cli.ts, for PATH. */
export async function agentroomOnPath(root: string): Promise<string> {
  const bin = join(root, "bin");
  await Deno.mkdir(bin, { recursive: true });
  const words = [Deno.execPath(), ...cliArgs([])].map((w) => `'${w}'`).join(" ");
  await Deno.writeTextFile(join(bin, "agentroom"), `#!/bin/sh\nexec ${words} "$@"\n`, {
    mode: 0o755,
  });
  return `${bin}:/usr/bin:/bin`;
}
