/**
 * `hook post-tool-use`: between tool calls, deliver only what is addressed to
 * this session (its unread directed messages and inbox items), fenced, marked
 * read after the output was written. Never the room feed. Nothing new → no
 * output. Also refreshes the session's presence, so an agent deep in a long
 * autonomous turn stays present.
 *
 * @module
 */
import { renderDigest } from "../src/fence.ts";
import { refreshPresence } from "../src/presence.ts";
import type { HookContext, HookReply } from "./_context.ts";
import { inboxSection } from "./_sections.ts";

/** Runs the post-tool-use hook. */
export async function postToolUse(ctx: HookContext): Promise<HookReply> {
  const [inbox] = await Promise.all([inboxSection(ctx), refreshPresence(ctx.room, ctx.identity)]);
  if (inbox.section.items.length === 0) return {};
  const context = renderDigest({
    preamble: [
      `agentroom: messages addressed to you arrived during this turn (you are ${ctx.identity.agent_id}).`,
      ctx.fence.notice,
    ],
    sections: [inbox.section],
    budget: ctx.budget,
  });
  return { context: context === "" ? undefined : context, commit: inbox.commit };
}
