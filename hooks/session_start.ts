/**
 * `hook session-start`: join the lobby, refresh presence, and inject a
 * blocker-first digest of the room (coordination blockers, unread messages,
 * claimable tasks, recent activity, who is here). Nothing to say → no output.
 *
 * @module
 */
import { commitCursor, joinCursor, readCursor } from "./cursors.ts";
import { type DigestSection, renderDigest } from "../src/fence.ts";
import { refreshPresence } from "../src/presence.ts";
import { listLeases } from "../src/coordination/leases.ts";
import { isCoordinationId } from "../src/coordination/shared.ts";
import { openTasks } from "../src/tasks.ts";
import { listWindows } from "../src/coordination/windows.ts";
import { type HookContext, type HookReply, isOwnSession } from "./_context.ts";
import { eventsSince, fromOwnSession, inboxSection, rosterSection } from "./_sections.ts";

/** The one-line etiquette reminder closing the digest. */
export const ETIQUETTE = "Etiquette: `agentroom claim <id>` before starting a task and " +
  "`agentroom done <id>` after; lease files before editing them; `agentroom tail` for the full feed.";

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
  ]);
  const own = fromOwnSession(ctx);
  const [windows, leases, inbox, tasks, recent, who, lobbySeed] = await Promise.all([
    listWindows(room),
    listLeases(room, { limit: 50 }),
    inboxSection(ctx),
    openTasks(room, 20),
    eventsSince(ctx, room, (e) => !own(e), true),
    rosterSection(ctx),
    readCursor(lobby, ctx.sessionId).then((c) => c === undefined ? joinCursor(lobby) : undefined),
  ]);
  const mine = (owner: string) => isOwnSession(owner, ctx.token);
  const minutesLeft = (until: number) => Math.max(1, Math.round((until - Date.now()) / 60_000));
  const sections: DigestSection[] = [
    {
      title: "quiet windows, pending or active (do not touch these resources unless you own it)",
      items: windows.map((w) =>
        `- ${w.state}, ~${minutesLeft(w.expires_at)} min: ` +
        fence.wrap(`${w.owner}: ${w.resources.join(" ")} (${w.purpose})`, 300) +
        (w.state === "pending" && w.required.some(mine) && isCoordinationId(w.id)
          ? ` (your acknowledgment is needed: \`agentroom window ack ${w.id}\`)`
          : "")
      ),
    },
    {
      title: "resources leased by other agents (check with `agentroom guard <resource>` first)",
      items: leases.filter((l) => !mine(l.owner)).map((l) =>
        `- ~${minutesLeft(l.expires_at)} min: ` +
        fence.wrap(`${l.owner}: ${l.resources.join(" ")} (${l.purpose})`, 300)
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
      items: recent.events.filter((e) => !inbox.shown.has(e.id)).map((e) => fence.event(e)),
      omitted: recent.older,
    },
    who,
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
