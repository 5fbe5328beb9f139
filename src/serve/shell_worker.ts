/**
 * A worker that runs a command once per event (`agentroom worker -- <command>`):
 * the event's JSON on stdin, its fields in the environment; exit status 0
 * completes the event, anything else fails the attempt. The command's output
 * is passed through, prefixed by nothing.
 *
 * @module
 */
import type { RoomEvent } from "../codec.ts";
import type { Room } from "../room.ts";
import type { Worker } from "../runtime.ts";

/** What a shell worker runs and where its output goes. */
export interface ShellWorkerOptions {
  /** The worker type (consumer group). */
  group: string;
  /** Event types; `*` for all. */
  interests: readonly string[];
  /** The program. */
  command: string;
  /** Its arguments. */
  args: readonly string[];
  /** Working directory of the command. */
  cwd: string;
  /** Receives the command's stdout. */
  stdout(text: string): void;
  /** Receives the command's stderr. */
  stderr(text: string): void;
  /** After SIGTERM on timeout or shutdown, SIGKILL follows after this many ms. @default 2000 */
  killAfterMs?: number;
}

/** The environment a command sees for `event` (in addition to the worker's own). */
export function eventEnv(event: RoomEvent, room: Room, group: string): Record<string, string> {
  return {
    AGENTROOM_EVENT_ID: event.id,
    AGENTROOM_EVENT_TYPE: event.type,
    AGENTROOM_EVENT_AGENT: event.agent_id,
    AGENTROOM_EVENT_TO: event.to,
    AGENTROOM_EVENT_REPLY_TO: event.reply_to,
    AGENTROOM_EVENT_TIMESTAMP: String(event.timestamp),
    AGENTROOM_EVENT_PAYLOAD: JSON.stringify(event.payload),
    AGENTROOM_WORKER_GROUP: group,
    REPO_ID: room.config.repo,
    BRANCH_NAME: room.config.branch,
  };
}

/** The failure of one run of the command. */
export class CommandFailedError extends Error {
  /** The exit code (`null` when killed by a signal). */
  readonly code: number | null;
  /** Creates the error. */
  constructor(message: string, code: number | null) {
    super(message);
    this.name = "CommandFailedError";
    this.code = code;
  }
}

/**
 * A worker running `options.command` per event.
 * @returns the worker
 */
export function shellWorker(options: ShellWorkerOptions): Worker {
  const killAfter = options.killAfterMs ?? 2000;
  return {
    id: options.group,
    interests: options.interests,
    async execute(event: RoomEvent, room: Room, signal: AbortSignal): Promise<void> {
      const child = new Deno.Command(options.command, {
        args: [...options.args],
        cwd: options.cwd,
        env: eventEnv(event, room, options.group),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const stop = () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        killTimer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, killAfter);
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
      const pumps = [pump(child.stdout, options.stdout), pump(child.stderr, options.stderr)];
      const input = feed(child.stdin, JSON.stringify(event) + "\n");
      try {
        const status = await child.status;
        await Promise.all([input, ...pumps]);
        if (signal.aborted) {
          throw new CommandFailedError(
            `${options.command} was stopped: ${reason(signal)}`,
            status.code,
          );
        }
        if (!status.success) {
          throw new CommandFailedError(
            status.signal
              ? `${options.command} was killed by ${status.signal}`
              : `${options.command} exited with status ${status.code}`,
            status.code,
          );
        }
      } finally {
        signal.removeEventListener("abort", stop);
        clearTimeout(killTimer);
      }
    },
  };
}

function reason(signal: AbortSignal): string {
  const r = signal.reason;
  if (r instanceof DOMException && r.name === "TimeoutError") return "timed out";
  return "shutting down";
}

/** Writes the event to stdin; a command that does not read it is fine. */
async function feed(stdin: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // The command exited or closed stdin without reading: not an error.
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  const rest = decoder.decode();
  if (rest !== "") sink(rest);
}
