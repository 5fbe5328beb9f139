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
import { inboxQuiet, inboxSection } from "./_sections.ts";

/**
 * Runs the post-tool-use hook. With nothing new (the common case, after every
 * tool call) it costs one round trip: the quiet check's pipeline and the
 * presence refresh go out together.
 */
export async function postToolUse(ctx: HookContext): Promise<HookReply> {
  const [quiet] = await Promise.all([inboxQuiet(ctx), refreshPresence(ctx.room, ctx.identity)]);
  if (quiet) return {};
  const inbox = await inboxSection(ctx);
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
