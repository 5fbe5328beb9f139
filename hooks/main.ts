/**
 * The process side of `agentroom hook <event>`: reads stdin (bounded), runs
 * the hook with the environment it is given and writes to stdout. Loaded by
 * `cli.ts` on the fast path, without the rest of the CLI; `cli.ts` (or a
 * test) hands it the process as a {@linkcode HookProcess} value.
 *
 * @module
 */
import { after } from "../src/timer.ts";
import type { EnvLookup } from "../src/process/settings.ts";
import { deadlineFrom, HOOK_EVENTS, runHook } from "./mod.ts";
import { MAX_STDIN_BYTES } from "./_input.ts";

/** The process values a hook run reads and writes. */
export interface HookProcess {
  /** Environment lookup. */
  env: EnvLookup;
  /** Working directory. */
  cwd: string;
  /** Standard input. */
  stdin: { read(buffer: Uint8Array): Promise<number | null> };
  /** Writes text to stdout, synchronously; throws when the write fails. */
  stdout: (text: string) => void;
  /** Writes text to stderr. */
  stderr: (text: string) => void;
}

async function readStdin(
  stdin: HookProcess["stdin"],
  limit: number,
): Promise<string> {
  const buffer = new Uint8Array(limit + 1);
  let size = 0;
  while (size <= limit) {
    const n = await stdin.read(buffer.subarray(size));
    if (n === null) break;
    size += n;
  }
  // an oversized payload is not JSON we accept: the hook then does nothing
  return size > limit ? "" : new TextDecoder().decode(buffer.subarray(0, size));
}

/**
 * Runs hook `event` for a process.
 *
 * @param event the hook event
 * @param io the process: environment, working directory and streams
 * @returns the exit code (always 0), or `undefined` for an unknown event
 */
export async function hookMain(event: string, io: HookProcess): Promise<number | undefined> {
  if (!(event in HOOK_EVENTS)) return undefined;
  // A harness that never closes stdin must not hang the hook: reading shares the deadline.
  // a variable that is not valid UTF-8 counts as unset: a hook never crashes on it
  const env = (name: string) => {
    try {
      return io.env(name);
    } catch {
      return undefined;
    }
  };
  const deadlineMs = deadlineFrom(env);
  const started = performance.now();
  let cancel = () => {};
  const expired = new Promise<undefined>((resolve) => {
    cancel = after(deadlineMs, () => resolve(undefined));
  });
  let stdin: string | undefined;
  try {
    stdin = await Promise.race([readStdin(io.stdin, MAX_STDIN_BYTES), expired]);
  } catch {
    stdin = undefined;
  } finally {
    cancel();
  }
  if (stdin === undefined) return 0;
  const debug = env("AGENTROOM_HOOK_DEBUG") === "1";
  return await runHook(event, {
    stdin,
    env,
    deadlineMs: Math.max(1, Math.round(deadlineMs - (performance.now() - started))),
    cwd: io.cwd,
    write: (line) => io.stdout(line + "\n"),
    debug: debug ? (message) => io.stderr(message + "\n") : undefined,
  });
}
