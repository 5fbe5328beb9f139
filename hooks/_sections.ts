/**
 * Digest sections shared by the hooks: the session's unread inbox, room
 * events since its cursor, and the live roster.
 *
 * @module
 */
import { decodeStreamEntries, type RoomEvent } from "../src/codec.ts";
import { commitCursor, joinCursor, readCursor, streamIdAfter } from "./cursors.ts";
import type { DigestSection } from "../src/fence.ts";
import { type InboxEntry, markInboxRead, unreadInbox } from "../src/inbox.ts";
import { roster } from "../src/presence.ts";
import type { Room } from "../src/room.ts";
import { claimLoad } from "../src/tasks.ts";
import { type HookContext, isOwnSession } from "./_context.ts";

/** Most events read per section per run. */
export const SCAN_LIMIT = 200;

/** A prepared section and the writes that acknowledge it. */
export interface Prepared {
  section: DigestSection;
  /** Ids of room events shown (to avoid showing them twice). */
  shown: Set<string>;
  /** The events, newest first. */
  events: RoomEvent[];
  commit: () => Promise<void>;
}

/**
 * The session's unread directed messages across every identity of the
 * session (the inbox-recipients index keeps recipients after presence expires).
 */
export async function inboxSection(ctx: HookContext): Promise<Prepared> {
  const { room, token, fence } = ctx;
  const members = await room.redis.call(["ZRANGE", room.keys.inboxRecipients, 0, -1]) as string[];
  const recipients = new Set([
    ctx.identity.agent_id,
    ...members.filter((m) => isOwnSession(m, token)),
  ]);
  const reads = await Promise.all(
    [...recipients].map(async (recipient) => ({
      recipient,
      entries: await unreadInbox(room, { recipient, count: 50 }),
    })),
  );
  const all: InboxEntry[] = reads.flatMap((r) => r.entries)
    .sort((a, b) => b.event.timestamp - a.event.timestamp);
  return {
    section: {
      title: `messages for you (${all.length} unread; they are marked read once shown)`,
      items: all.map((e) => fence.event(e.event)),
    },
    shown: new Set(all.map((e) => e.event.id)),
    events: all.map((e) => e.event),
    commit: async () => {
      for (const { recipient, entries } of reads) {
        const last = entries.at(-1);
        if (last) await markInboxRead(room, { recipient, inboxId: last.inbox_id });
      }
    },
  };
}

/**
 * Whether the session has nothing unread, answered in one round trip (one
 * pipeline: the inbox recipients, this identity's inbox cursor and newest
 * inbox entry). True only when no other identity of the session has an inbox
 * and this one's newest entry is already read; anything else (false) means
 * {@linkcode inboxSection} must look.
 */
export async function inboxQuiet(ctx: HookContext): Promise<boolean> {
  const { room, token } = ctx;
  const me = ctx.identity.agent_id;
  const [members, cursor, newest] = await room.redis.pipeline([
    ["ZRANGE", room.keys.inboxRecipients, 0, -1],
    ["GET", room.keys.inboxCursor(me)],
    ["XREVRANGE", room.keys.inbox(me), "+", "-", "COUNT", 1],
  ]);
  if (members instanceof Error || cursor instanceof Error || newest instanceof Error) return false;
  const others = (members as string[]).filter((m) => m !== me && isOwnSession(m, token));
  if (others.length > 0) return false;
  const last = (newest as [string, unknown][])[0]?.[0];
  if (last === undefined) return true;
  return !streamIdAfter(last, typeof cursor === "string" ? cursor : "0-0");
}

/** Most older events counted (not shown) when more than {@linkcode SCAN_LIMIT} are new. */
export const COUNT_LIMIT = 5_000;

/**
 * Events of `room` after the session's cursor (or the join window when the
 * session has none yet), newest first, filtered by `keep`. When more than
 * {@linkcode SCAN_LIMIT} are new, the newest are returned and, with
 * `countOlder`, the older ones kept by `keep` are counted (`older`, up to
 * {@linkcode COUNT_LIMIT}); the commit moves the cursor past all of them.
 */
export async function eventsSince(
  ctx: HookContext,
  room: Room,
  keep: (event: RoomEvent) => boolean,
  countOlder = false,
): Promise<
  { events: RoomEvent[]; older: number; seeded: boolean; commit: () => Promise<void> }
> {
  const existing = await readCursor(room, ctx.sessionId);
  const start = existing ?? await joinCursor(room);
  const scanned = await room.recentSince(start, SCAN_LIMIT);
  let older = 0;
  if (countOlder && scanned.length === SCAN_LIMIT) {
    const reply = await room.redis.call(
      ["XRANGE", room.keys.events, `(${start}`, `(${scanned[0]!.id}`, "COUNT", COUNT_LIMIT],
    );
    older = decodeStreamEntries(reply).filter(keep).length;
  }
  const last = scanned.at(-1)?.id ?? start;
  return {
    events: scanned.filter(keep).reverse(),
    older,
    seeded: existing === undefined,
    commit: () => commitCursor(room, { sessionId: ctx.sessionId, id: last }),
  };
}

/** The live roster without this session, with claim loads, fenced. */
export async function rosterSection(ctx: HookContext): Promise<DigestSection> {
  const [entries, load] = await Promise.all([roster(ctx.room), claimLoad(ctx.room)]);
  const others = entries.filter((e) => !isOwnSession(e.identity.agent_id, ctx.token));
  return {
    title: "who is here (live presence; absence is no proof that nobody is working)",
    items: others.map((e) => {
      const claims = load.get(e.identity.agent_id) ?? 0;
      const text = [e.identity.agent_id, e.description].filter(Boolean).join(": ");
      return `- ${ctx.fence.wrap(text)}${claims > 0 ? ` (${claims} claimed)` : ""}`;
    }),
  };
}

/** Whether an event was written by this session. */
export function fromOwnSession(ctx: HookContext): (e: RoomEvent) => boolean {
  return (e) => isOwnSession(e.agent_id, ctx.token);
}
