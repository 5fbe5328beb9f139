/**
 * Test support: runs the CLI in-process through `main(args, io)` with a clean
 * environment and captured streams (fast: most tests), or the real `cli.ts`
 * as a subprocess with exactly the permission flags the compiled binary gets
 * (the end-to-end tests of each command).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUN_PERMISSIONS } from "../../scripts/permissions.ts";
import type { CliIo } from "../../src/cli/_context.ts";
import { main } from "../../src/cli/main.ts";
import { shared } from "./redis.ts";

/** Path of the CLI entry point. */
export const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** What was written through `stdoutBytes` (in-process runs only). */
  stdoutBytes?: Uint8Array;
}

/** Options of one run. */
export interface RunOptions {
  /** Environment on top of the clean base (PATH, HOME, NO_COLOR, Redis URL). */
  env?: Record<string, string>;
  /**
   * Hang guard: a subprocess is killed after this many ms; an in-process run
   * fails the test. @default 15000
   */
  deadlineMs?: number;
  /** Working directory. */
  cwd?: string;
  /** Standard input of an in-process run (a subprocess gets none). @default "" */
  stdin?: string | Uint8Array;
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

/** A reader over a fixed text (an in-process stdin). */
export function textReader(text: string | Uint8Array): CliIo["stdin"] {
  let rest = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return {
    read(buffer) {
      if (rest.length === 0) return Promise.resolve(null);
      const n = Math.min(buffer.length, rest.length);
      buffer.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return Promise.resolve(n);
    },
  };
}

/** A CLI run in the background whose stdout can be awaited. */
export interface Running {
  /** Waits until what was printed so far matches `pattern`. */
  until(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Interrupts the run as Ctrl-C would (in-process runs only). */
  interrupt(): void;
  /** Waits for the exit and returns everything printed. */
  done(): Promise<CliResult>;
}

/**
 * Starts the CLI in-process (`main(args, io)`) without waiting for it: the
 * environment is exactly the clean base plus `options.env`, the working
 * directory `options.cwd` (else this process's), stdin `options.stdin`.
 */
export function startCli(args: string[], options: RunOptions = {}): Running {
  const env: Record<string, string> = { ...baseEnv(), ...options.env };
  let stdout = "";
  let stderr = "";
  const bytes: Uint8Array[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((resolve) => resolve());
  const interrupts = new Set<() => void>();
  const io: CliIo = {
    env: (name) => env[name],
    cwd: options.cwd ?? Deno.cwd(),
    stdout: (text) => {
      stdout += text;
      wake();
    },
    stdoutBytes: (chunk) => {
      bytes.push(chunk.slice());
    },
    stderr: (text) => {
      stderr += text;
    },
    stdin: textReader(options.stdin ?? ""),
    hostname: () => Deno.hostname(),
    ppid: Deno.pid, // as for a subprocess of this test
    onInterrupt: (stop) => {
      interrupts.add(stop);
      return () => interrupts.delete(stop);
    },
  };
  const deadlineMs = options.deadlineMs ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`agentroom ${args.join(" ")} still running after ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  const finished = Promise.race([main(args, io), hung]).finally(() => {
    clearTimeout(timer);
    wake();
  });
  let ended = false;
  finished.then(() => ended = true, () => ended = true);
  return {
    async until(pattern) {
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (ended) {
          await finished;
          throw new Error(`exited before printing ${pattern}: ${stdout} / ${stderr}`);
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    interrupt() {
      for (const stop of [...interrupts]) stop();
    },
    async done() {
      const code = await finished;
      const stdoutBytes = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
      let offset = 0;
      for (const b of bytes) {
        stdoutBytes.set(b, offset);
        offset += b.length;
      }
      return { code, stdout, stderr, stdoutBytes };
    },
  };
}

/** Runs the CLI once in-process (see {@linkcode startCli}) and collects its output. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return await startCli(args, options).done();
}

/**
 * Starts the real `cli.ts` as a subprocess with the binary's permissions in
 * a clean environment, without waiting for it.
 */
export function startProcess(args: string[], options: RunOptions = {}): Running {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.deadlineMs ?? 15_000), // hang guard: killed
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let ended = false;
  const readMore = async () => {
    const { value, done } = await reader.read();
    if (done) ended = true;
    else stdout += value;
  };
  return {
    async until(pattern) {
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (ended) {
          throw new Error(`exited before printing ${pattern}: ${stdout} / ${await stderr}`);
        }
        await readMore();
      }
    },
    interrupt() {
      child.kill("SIGINT");
    },
    async done() {
      while (!ended) await readMore();
      const status = await child.status;
      return { code: status.code, stdout, stderr: await stderr };
    },
  };
}

/** Runs the real `cli.ts` once as a subprocess and collects its output. */
export async function spawnCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return await startProcess(args, options).done();
}

/** An agent bound to one room and session, for readable tests. */
export function agent(repo: string, session: string, handle?: string) {
  const env: Record<string, string> = {
    REPO_ID: repo,
    BRANCH_NAME: "main",
    AGENTROOM_SESSION_ID: session,
  };
  if (handle !== undefined) env.AGENTROOM_AGENT = handle;
  const merged = (extra: RunOptions): RunOptions => ({ ...extra, env: { ...env, ...extra.env } });
  return {
    env,
    /** Runs in-process. */
    run: (args: string[], extra: RunOptions = {}) => runCli(args, merged(extra)),
    /** Starts in-process in the background. */
    start: (args: string[], extra: RunOptions = {}) => startCli(args, merged(extra)),
    /** Runs as a subprocess. */
    spawn: (args: string[], extra: RunOptions = {}) => spawnCli(args, merged(extra)),
    /** Starts as a subprocess in the background. */
    startProcess: (args: string[], extra: RunOptions = {}) => startProcess(args, merged(extra)),
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
