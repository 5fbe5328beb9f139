/**
 * `agentroom tail`: read the room's history, optionally following it live.
 *
 * @module
 */
import type { RoomEvent } from "../codec.ts";
import { sanitizeHandle } from "../identity.ts";
import { type Room, validateStreamId } from "../room.ts";
import { intFlag, listFlag, parseDuration, UsageError } from "./_args.ts";
import { BLOCK_SLICE_MS } from "../messaging.ts";
import type { Command, Context } from "./_context.ts";
import { eventJson, eventLines } from "./_output.ts";

/** Most events `tail` reads in one go. */
export const MAX_TAIL = 5000;
const DEFAULT_TAIL = 100;

/** The tail command. */
export const tail: Command = {
  name: "tail",
  summary: "show recent events (filter, follow live)",
  usage: "tail [--count N] [--since DURATION|ID] [--type T]... [--from AGENT] [--to-me] [--follow]",
  details: [
    `Shows the newest --count events (default ${DEFAULT_TAIL}, at most ${MAX_TAIL}), oldest first.`,
    "With filters, up to 5000 recent events are scanned, then the newest matches are kept.",
    "--follow keeps streaming new events until Ctrl-C; with --json, output is JSON Lines.",
  ],
  examples: [
    "tail --count 20",
    "tail --since 15m --type NOTE,QUESTION",
    "tail --follow --json",
  ],
  flags: {
    count: {
      type: "string",
      short: "n",
      value: "N",
      help: `how many events (default ${DEFAULT_TAIL})`,
    },
    limit: { type: "string", value: "N", help: "same as --count" },
    since: {
      type: "string",
      value: "DURATION|ID",
      help: "only events newer than 15m, 2h, or an event id",
    },
    type: {
      type: "string",
      multiple: true,
      value: "T",
      help: "only these types (repeat or comma-separate)",
    },
    from: { type: "string", value: "AGENT", help: "only events from this agent id or handle" },
    "to-me": {
      type: "boolean",
      help: "only events addressed to you (your id, or your handle for mailboxed messages)",
    },
    follow: { type: "boolean", short: "f", help: "keep streaming new events (blocking read)" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const countText = ctx.flag("count") ?? ctx.flag("limit");
    const count = intFlag("tail", "count", countText, DEFAULT_TAIL);
    if (count === 0 || count > MAX_TAIL) {
      throw new UsageError(`--count must be between 1 and ${MAX_TAIL}, got ${count}`, "tail");
    }
    const since = ctx.flag("since");
    const sinceMs = since === undefined ? undefined : parseDuration(since);
    if (since !== undefined && sinceMs === undefined) {
      try {
        validateStreamId(since);
      } catch {
        throw new UsageError(
          `--since must be a duration (15m, 2h30m) or an event id, got ${JSON.stringify(since)}`,
          "tail",
        );
      }
    }
    const filter = eventFilter(ctx);
    const room = await ctx.room();
    let cursor: string | undefined;
    if (sinceMs !== undefined) cursor = `${Math.max(0, (await room.serverTime()) - sinceMs)}-0`;
    else if (since !== undefined) cursor = since;
    const scan = filter ? MAX_TAIL : count;
    const batch = cursor === undefined
      ? await room.recent(scan)
      : await room.recentSince(cursor, scan);
    const shown = (filter ? batch.filter(filter) : batch).slice(-count);
    for (const event of shown) print(ctx, event);
    // reading leaves no presence behind (a shell without a session variable would
    // otherwise add an anonymous entry to `who` on every run)
    if (ctx.bool("follow")) {
      await follow(ctx, room, batch.at(-1)?.id ?? cursor ?? "0-0", filter);
      return 0;
    }
    return 0;
  },
};

function print(ctx: Context, event: RoomEvent): void {
  if (ctx.json) ctx.out.json(eventJson(event));
  else for (const line of eventLines(event)) ctx.out.line(line);
}

/**
 * The filter of `--type`, `--from` and `--to-me`, or undefined when none is given.
 *
 * @param ctx the command context
 */
export function eventFilter(ctx: Context): ((e: RoomEvent) => boolean) | undefined {
  const types = new Set(listFlag(ctx.line.values.type));
  const from = ctx.flag("from");
  const toMe = ctx.bool("to-me");
  if (types.size === 0 && from === undefined && !toMe) return undefined;
  const me = toMe ? ctx.identity.agent_id : "";
  // a message kept for this handle while nobody had it (a mailbox) is addressed to the handle
  const handle = toMe ? ctx.identity.handle : "";
  const fromId = from === undefined ? "" : sanitizeHandle(from.trim());
  return (e) =>
    (types.size === 0 || types.has(e.type)) &&
    (from === undefined || e.agent_id === fromId || e.agent_handle === fromId) &&
    (!toMe || e.to === me || (handle !== "" && e.to === handle));
}

/**
 * Streams events after `start` until Ctrl-C (a clean return) or a Redis
 * error (thrown: the command exits 1 with one line).
 *
 * @param ctx the command context
 * @param room the room
 * @param start the id to read after
 * @param filter which events to print
 * @param show how to print one event (default: tail's rendering)
 */
export async function follow(
  ctx: Context,
  room: Room,
  start: string,
  filter: ((e: RoomEvent) => boolean) | undefined,
  show: (event: RoomEvent) => void = (event) => print(ctx, event),
): Promise<void> {
  let cursor = start;
  let stopping = false;
  const stop = () => {
    stopping = true;
    room.redis.close();
  };
  const unlisten = ctx.io.onInterrupt(stop);
  try {
    for (;;) {
      let events: RoomEvent[];
      try {
        // bounded blocking reads: a server that stopped answering fails a read by its deadline
        events = await room.waitForEvents(cursor, { blockMs: BLOCK_SLICE_MS, count: 100 });
      } catch (error) {
        if (stopping) return;
        throw error;
      }
      for (const event of events) {
        cursor = event.id;
        if (!filter || filter(event)) show(event);
      }
    }
  } finally {
    unlisten();
  }
}
