/**
 * `--wait`: retry a refused step when the room changes, instead of polling.
 * The step runs, and while its outcome is a conflict the command blocks on
 * the room's stream (woken by the room's own events: a release, an
 * acknowledgment, a break) or until the conflicting hold lapses, bounded by
 * `--timeout`. On timeout the last outcome is returned, so the command exits
 * exactly as it would have without `--wait` (3 for a conflict).
 *
 * @module
 */
import { DAY_MS } from "../limits.ts";
import { BLOCK_SLICE_MS } from "../messaging.ts";
import type { Room } from "../room.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Context } from "./_context.ts";

/** Default `--timeout` of a `--wait`. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;

/** `--wait` and its `--timeout`; `--timeout` without `--wait` is a usage error. */
export function waitFlags(ctx: Context, command: string): { wait: boolean; timeoutMs: number } {
  const wait = ctx.bool("wait");
  const text = ctx.flag("timeout");
  if (!wait) {
    if (text !== undefined) throw new UsageError("--timeout only applies with --wait", command);
    return { wait, timeoutMs: 0 };
  }
  if (text === undefined) return { wait, timeoutMs: DEFAULT_WAIT_TIMEOUT_MS };
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > DAY_MS) {
    throw new UsageError(
      `--timeout must be a duration between 1ms and 24h such as 30s or 10m, got ${
        JSON.stringify(text)
      }`,
      command,
    );
  }
  return { wait, timeoutMs: ms };
}

/**
 * Runs `attempt` until `retryIn` says its outcome is final (`false`) or the
 * timeout passes; between attempts, blocks on the room's stream until a new
 * event arrives or `retryIn` ms pass (when the conflicting hold lapses).
 *
 * @param room the room
 * @param timeoutMs how long to keep trying (0: try once)
 * @param attempt the step
 * @param retryIn for an outcome worth retrying: ms until it may change by itself
 *   (`undefined`: only an event changes it); `false` for a final outcome
 * @returns the last outcome
 */
export async function retryUntil<R>(
  room: Room,
  timeoutMs: number,
  attempt: () => Promise<R>,
  retryIn: (outcome: R) => number | undefined | false,
): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cursor = await room.lastId();
    const outcome = await attempt();
    const wake = retryIn(outcome);
    const left = deadline - Date.now();
    if (wake === false || timeoutMs <= 0 || left <= 0) return outcome;
    // one blocking read: woken by the next event of the room, by the lapse of the
    // conflicting hold, or after a slice (so a server that stopped answering is noticed)
    const blockMs = Math.max(
      1,
      Math.min(left, BLOCK_SLICE_MS, wake === undefined ? Infinity : wake + 20),
    );
    await room.waitForEvents(cursor, { blockMs, count: 1 });
  }
}
