/**
 * `agentroom leave`: clear this session's presence.
 *
 * @module
 */
import { clearSessionPresence } from "../presence.ts";
import type { Command, Context } from "./_context.ts";

/** The leave command. */
export const leave: Command = {
  name: "leave",
  summary: "remove this session's presence from the room",
  usage: "leave",
  details: [
    "Removes the bare session entry and every <handle>-<session> entry of this session.",
    "Leases and claims stay until released or expired.",
  ],
  examples: ["leave", "leave --repo lobby"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const token = ctx.settings.token;
    const room = await ctx.room();
    const cleared = await clearSessionPresence(room, token);
    if (ctx.json) ctx.out.json({ session_id: token, cleared });
    else ctx.out.line(`cleared presence for session ${token} (${cleared.length} entries)`);
    return 0;
  },
};
