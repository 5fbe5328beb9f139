/**
 * The process side of `agentroom hook <event>`: reads stdin (bounded), runs
 * the hook with the process environment and writes to stdout. Loaded by
 * `cli.ts` on the fast path, without the rest of the CLI.
 *
 * @module
 */
import { after } from "../src/process/timer.ts";
import { deadlineFrom, HOOK_EVENTS, runHook } from "./mod.ts";
import { MAX_STDIN_BYTES } from "./_input.ts";

async function readStdin(limit: number): Promise<string> {
  const buffer = new Uint8Array(limit + 1);
  let size = 0;
  while (size <= limit) {
    const n = await Deno.stdin.read(buffer.subarray(size));
    if (n === null) break;
    size += n;
  }
  // an oversized payload is not JSON we accept: the hook then does nothing
  return size > limit ? "" : new TextDecoder().decode(buffer.subarray(0, size));
}

function writeLine(line: string): void {
  let bytes = new TextEncoder().encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

/**
 * Runs hook `event` for this process.
 *
 * @param event the hook event
 * @returns the exit code (always 0), or `undefined` for an unknown event
 */
export async function hookMain(event: string): Promise<number | undefined> {
  if (!(event in HOOK_EVENTS)) return undefined;
  // A harness that never closes stdin must not hang the hook: reading shares the deadline.
  // a variable that is not valid UTF-8 counts as unset: a hook never crashes on it
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
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
    stdin = await Promise.race([readStdin(MAX_STDIN_BYTES), expired]);
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
    cwd: Deno.cwd(),
    write: writeLine,
    debug: debug ? (message) => console.error(message) : undefined,
  });
}
