/**
 * `hook session-start`: join the lobby, refresh presence, and inject a
 * blocker-first digest of the room (coordination blockers, unread messages,
 * claimable tasks, recent activity, who is here). Nothing to say → no output.
 *
 * @module
 */
import { commitCursor, joinCursor, readCursor } from "./cursors.ts";
import { type DigestSection, renderDigest } from "../src/fence.ts";
import { absenceNote, presenceView, refreshPresence } from "../src/presence.ts";
import { listLeases } from "../src/coordination/leases.ts";
import { sweepLapses } from "../src/coordination/lapses.ts";
import { openTasks } from "../src/tasks.ts";
import { listWindows } from "../src/coordination/windows.ts";
import type { RoomEvent } from "../src/codec.ts";
import { heldBySelf, isCoordinationId } from "../src/coordination/shared.ts";
import { type HookContext, type HookReply, isOwnSession } from "./_context.ts";
import { eventsSince, fromOwnSession, inboxSection, rosterSection } from "./_sections.ts";

/** The room's conventions, stated as facts, closing the digest. */
export const ETIQUETTE = "Room conventions: agents claim a task (`agentroom claim <id>`) before " +
  "starting it and mark it done (`agentroom done <id>`) after; files are leased before they are " +
  "edited; `agentroom tail` shows the full feed.";

/**
 * Routine audit events: shown as counts in the activity section, since the
 * blocker sections already show what is live.
 */
export const AUDIT_NOISE: ReadonlySet<string> = new Set([
  "AGENT_JOINED",
  "LEASE_ACQUIRED",
  "LEASE_RENEWED",
  "LEASE_RELEASED",
  "TASK_CLAIMED",
  "TASK_RELEASED",
  "WINDOW_ACKNOWLEDGED",
]);

/** `3 LEASE_RENEWED, 1 TASK_CLAIMED`: counts by type, most frequent first. */
function countsByType(events: readonly RoomEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([type, n]) => `${n} ${type}`).join(", ");
}

/** The pinned lobby WELCOME's message and conventions, or undefined when none is pinned. */
async function pinnedWelcome(ctx: HookContext): Promise<string[] | undefined> {
  const json = await ctx.lobby.redis.call(["GET", ctx.lobby.keys.pinnedWelcome]);
  if (typeof json !== "string") return undefined;
  try {
    const stored = JSON.parse(json) as { payload?: unknown; agent_id?: unknown };
    const payload = typeof stored.payload === "string" ? JSON.parse(stored.payload) : undefined;
    const lines = [
      typeof payload?.message === "string" ? payload.message : "",
      ...(Array.isArray(payload?.etiquette) ? payload.etiquette : []),
    ].filter((l): l is string => typeof l === "string" && l.trim() !== "").slice(0, 6);
    const from = typeof stored.agent_id === "string" ? stored.agent_id : "?";
    return lines.map((l) => `- ${ctx.fence.wrap(`${from}: ${l}`, 240)}`);
  } catch {
    return undefined;
  }
}

/** Runs the session-start hook. */
export async function sessionStart(ctx: HookContext): Promise<HookReply> {
  const { room, lobby, identity, fence } = ctx;
  await Promise.all([
    lobby.publish({
      type: "AGENT_JOINED",
      agent: identity,
      payload: { room: `${room.config.repo}:${room.config.branch}` },
    }),
    refreshPresence(room, identity),
    sweepLapses(room).catch(() => undefined),
  ]);
  const own = fromOwnSession(ctx);
  const [windows, leases, inbox, tasks, recent, who, lobbySeed, view] = await Promise.all([
    listWindows(room),
    listLeases(room, { limit: 50 }),
    inboxSection(ctx),
    openTasks(room, 20),
    eventsSince(ctx, room, (e) => !own(e), true),
    rosterSection(ctx),
    readCursor(lobby, ctx.sessionId).then((c) => c === undefined ? joinCursor(lobby) : undefined),
    presenceView(room),
  ]);
  const now = view.now;
  const absent = (record: { owner: string; session?: string }) => {
    const note = absenceNote(view.of(record));
    return note === "" ? "" : ` (${note})`;
  };
  // the lobby's pinned welcome, once: on the session's first look at the lobby
  const welcome = lobbySeed === undefined ? undefined : await pinnedWelcome(ctx);
  const mine = (record: { owner: string; session?: string }) =>
    heldBySelf(record, identity.agent_id, ctx.token) || isOwnSession(record.owner, ctx.token);
  // time left on the Redis server clock, the clock the deadlines are on
  const minutesLeft = (until: number) => Math.max(1, Math.round((until - now) / 60_000));
  const activity = recent.events.filter((e) => !inbox.shown.has(e.id));
  const noise = activity.filter((e) => AUDIT_NOISE.has(e.type));
  const sections: DigestSection[] = [
    {
      title: "quiet windows, pending or active (do not touch these resources unless you own it)",
      items: windows.map((w) =>
        `- ${w.state === "pending" ? "pending" : "active"}, ~${minutesLeft(w.expires_at)} min: ` +
        fence.wrap(`${w.purpose}: ${w.resources.join(" ")}, held by ${w.owner}`, 300) +
        absent(w) +
        (w.state === "pending" && w.required.some((a) => isOwnSession(a, ctx.token)) &&
            isCoordinationId(w.id)
          ? ` (your acknowledgment is needed: \`agentroom window ack ${w.id}\`)`
          : "")
      ),
    },
    {
      title: "resources leased by other agents (check with `agentroom guard <resource>` first)",
      items: leases.filter((l) => !mine(l)).map((l) =>
        `- ~${minutesLeft(l.expires_at)} min: ` +
        fence.wrap(`${l.purpose}: ${l.resources.join(" ")}, held by ${l.owner}`, 300) +
        absent(l) +
        (absent(l) !== "" && isCoordinationId(l.id)
          ? `; \`agentroom lease break ${l.id} --reason ...\` ends it once the owner has ` +
            "been away longer than the grace period"
          : "")
      ),
    },
    inbox.section,
    {
      title: "claimable tasks (`agentroom claim <id>`; exit 3 means someone else has it)",
      items: tasks.map((t) => fence.event(t)),
    },
    {
      title: recent.seeded
        ? `room activity in the last ${Math.round(room.config.joinReplayMs / 60_000)} minutes`
        : "room activity since this session last looked",
      items: [
        ...activity.filter((e) => !AUDIT_NOISE.has(e.type)).map((e) => fence.event(e)),
        ...(noise.length > 0 ? [`(routine audit events not listed: ${countsByType(noise)})`] : []),
      ],
      omitted: recent.older,
    },
    who,
    ...(welcome && welcome.length > 0 ? [{ title: "lobby welcome (pinned)", items: welcome }] : []),
  ];
  const context = renderDigest({
    preamble: [
      `agentroom: you are ${identity.agent_id} in room ${room.config.repo}:${room.config.branch}.`,
      fence.notice,
    ],
    sections,
    footer: ETIQUETTE,
    budget: ctx.budget,
  });
  return {
    context: context === "" ? undefined : context,
    commit: async () => {
      await Promise.all([
        inbox.commit(),
        recent.commit(),
        lobbySeed === undefined
          ? Promise.resolve()
          : commitCursor(lobby, { sessionId: ctx.sessionId, id: lobbySeed }),
      ]);
    },
  };
}
