/**
 * `hook user-prompt-submit`: keep presence fresh (labelled with the prompt
 * unless the agent set its own label) and inject only what is new since the
 * session last spoke: its inbox first, then room events, then lobby messages
 * meant for it. Nothing new → no output.
 *
 * @module
 */
import type { RoomEvent } from "../src/codec.ts";
import { renderDigest } from "../src/fence.ts";
import { sweepLapses } from "../src/coordination/lapses.ts";
import { heartbeat, presenceOf, refreshPresence } from "../src/presence.ts";
import { clip, oneLine } from "../src/sanitize.ts";
import { type HookContext, type HookReply, isOwnSession } from "./_context.ts";
import { eventsSince, fromOwnSession, inboxSection } from "./_sections.ts";

/** Prefix of an inferred (not manual) presence label. */
export const INFERRED_LABEL = "current prompt: ";

/** Lobby event types that are bookkeeping, not messages. */
const LOBBY_NOISE = new Set(["AGENT_JOINED", "SESSION_ENDED", "WELCOME"]);

/** Most lobby messages shown per prompt. */
const LOBBY_SHOWN = 5;

async function labelPresence(ctx: HookContext): Promise<void> {
  const prompt = oneLine(ctx.input.prompt ?? "").trim();
  if (prompt === "") {
    await refreshPresence(ctx.room, ctx.identity);
    return;
  }
  const mine = await presenceOf(ctx.room, ctx.identity.agent_id);
  if (mine && mine.description !== "" && !mine.description.startsWith(INFERRED_LABEL)) {
    await refreshPresence(ctx.room, ctx.identity); // a manual role label wins
    return;
  }
  await heartbeat(ctx.room, {
    identity: ctx.identity,
    description: INFERRED_LABEL + clip(prompt, 140),
  });
}

/** Runs the user-prompt-submit hook. */
export async function userPromptSubmit(ctx: HookContext): Promise<HookReply> {
  const { room, lobby, fence, token } = ctx;
  const own = fromOwnSession(ctx);
  const here = `${room.config.repo}:${room.config.branch}`;
  const forMe = (e: RoomEvent) => e.to === "" || e.to === here || isOwnSession(e.to, token);
  // presence first (it moves what waited in this handle's mailbox into the inbox) and the
  // lapse sweep (a lapsed claim, lease or window of this session lands in its inbox)
  await Promise.all([labelPresence(ctx), sweepLapses(room).catch(() => undefined)]);
  const [inbox, local, cross] = await Promise.all([
    inboxSection(ctx),
    eventsSince(ctx, room, (e) => !own(e), true),
    eventsSince(ctx, lobby, (e) => !LOBBY_NOISE.has(e.type) && !own(e) && forMe(e)),
  ]);
  const context = renderDigest({
    preamble: [
      `agentroom: new since your last message (you are ${ctx.identity.agent_id}).`,
      fence.notice,
    ],
    sections: [
      inbox.section,
      {
        title: `room ${here}`,
        items: local.seeded
          ? []
          : local.events.filter((e) => !inbox.shown.has(e.id)).map((e) => fence.event(e)),
        omitted: local.seeded ? 0 : local.older,
      },
      {
        title: "lobby (cross-repo) messages for you",
        items: cross.seeded ? [] : cross.events.slice(0, LOBBY_SHOWN).map((e) => fence.event(e)),
      },
    ],
    budget: ctx.budget,
  });
  return {
    context: context === "" ? undefined : context,
    commit: async () => {
      await Promise.all([inbox.commit(), local.commit(), cross.commit()]);
    },
  };
}
