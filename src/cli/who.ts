/**
 * `agentroom who`: the live roster.
 *
 * @module
 */
import { roster } from "../presence.ts";
import { claimLoad } from "../tasks.ts";
import { terminalText } from "../sanitize.ts";
import type { Command, Context } from "./_context.ts";
import { formatDuration } from "./_output.ts";

/** The who command. */
export const who: Command = {
  name: "who",
  summary: "list agents present in the room",
  usage: "who [--json]",
  details: [
    "Presence is liveness, not attendance: an agent that never runs agentroom is invisible,",
    "so an empty roster is no proof that nobody is working. Entries expire 15m after the",
    "agent's last command.",
  ],
  examples: ["who", "who --json --repo lobby"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const me = ctx.identity.agent_id;
    const room = await ctx.room();
    const [entries, load] = await Promise.all([roster(room), claimLoad(room)]);
    if (ctx.json) {
      ctx.out.json({
        room: { repo: room.config.repo, branch: room.config.branch },
        agents: entries.map((e) => ({
          agent_id: e.identity.agent_id,
          handle: e.identity.handle,
          session_id: e.identity.session_id,
          description: e.description,
          ttl_ms: e.ttl_ms,
          claims: load.get(e.identity.agent_id) ?? 0,
          you: e.identity.agent_id === me,
        })),
      });
      return 0;
    }
    if (entries.length === 0) {
      ctx.out.line("(nobody here; absence from this list is no proof that nobody is working)");
      return 0;
    }
    for (const e of entries) {
      const you = e.identity.agent_id === me ? "  (you)" : "";
      const desc = e.description === "" ? "" : `  ${terminalText(e.description)}`;
      const claims = load.get(e.identity.agent_id) ?? 0;
      const held = claims > 0 ? `  (${claims} claimed)` : "";
      ctx.out.line(
        `${terminalText(e.identity.agent_id)}${desc}${held}  (expires in ${
          formatDuration(e.ttl_ms)
        })${you}`,
      );
    }
    return 0;
  },
};
