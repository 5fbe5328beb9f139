/**
 * The rate gate: sends per sender → target per window, counted in Redis for
 * the CLI and the MCP server alike. Over the limit a send is recorded in the
 * room's rate audit stream; whether it is then delivered (`observe`) or
 * refused (`enforce`) is the caller's choice.
 *
 * @module
 */
import { InvalidValueError } from "./errors.ts";
import { DAY_MS } from "./limits.ts";
import type { Room } from "./room.ts";
import { RATE } from "./scripts.ts";
import { decodeRateReply } from "./replies.ts";

/** How many sends per window. */
export interface RateLimit {
  /** Sends allowed per window (at least 1). */
  count: number;
  /** Window length in ms. */
  windowMs: number;
}

/** What the gate does: count and audit only, refuse over the limit, or nothing. */
export type RateMode = "observe" | "enforce" | "off";

/** The default limit: 30 sends from one sender to one target per minute. */
export const DEFAULT_RATE_LIMIT: RateLimit = { count: 30, windowMs: 60_000 };

/** What counting one send found. */
export interface RateCount {
  /** Sends in this window, this one included. */
  count: number;
  /** Whether it is over the limit (and was audited). */
  over: boolean;
}

/**
 * Counts one send from `from` to `to` (`"*"` for a broadcast) and audits it
 * when it is over the limit, in one script.
 *
 * @param room the room
 * @param options sender, target, event type, limit, and the mode written to the audit entry
 * @returns the count and whether it is over
 * @throws {InvalidValueError} for a limit below 1 or a window outside 1 ms–24 h
 */
export async function countSend(
  room: Room,
  options: {
    from: string;
    to: string;
    type: string;
    limit: RateLimit;
    mode: "observe" | "enforce";
  },
): Promise<RateCount> {
  const { limit } = options;
  if (!(Number.isSafeInteger(limit.count) && limit.count >= 1)) {
    throw new InvalidValueError(`rate limit must be at least 1 send, got ${limit.count}`);
  }
  if (!(limit.windowMs >= 1 && limit.windowMs <= DAY_MS)) {
    throw new InvalidValueError(`rate window must be between 1 ms and 24h, got ${limit.windowMs}`);
  }
  const to = options.to === "" ? "*" : options.to;
  return decodeRateReply(
    await room.redis.evalScript(RATE, [
      room.keys.rate(`${options.from}>${to}`),
      room.keys.rateAudit,
    ], [
      limit.windowMs,
      limit.count,
      options.mode,
      options.from,
      to,
      options.type,
      DAY_MS,
    ]),
  );
}
