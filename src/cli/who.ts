/**
 * `agentroom who`: the live roster.
 *
 * @module
 */
import { DEFAULT_HANDLE } from "../identity.ts";
import { type PresenceEntry, roster } from "../presence.ts";
import { claimLoad } from "../tasks.ts";
import { terminalText } from "../sanitize.ts";
import { sweepLapses } from "../coordination/lapses.ts";
import type { Command, Context } from "./_context.ts";
import { formatDuration } from "./_output.ts";
import { type Holder, holders } from "../coordination/holders.ts";
import { absenceNote, presenceJson } from "./_coord.ts";

/** The who command. */
export const who: Command = {
  name: "who",
  summary: "list agents present in the room",
  usage: "who [--all] [--json]",
  details: [
    "Agents that hold leases, claims or quiet windows without live presence are listed after",
    "the roster with how long they have been absent ('owner absent 12m').",
    "Presence is liveness, not attendance: an agent that never runs agentroom is invisible,",
    "so an empty roster is no proof that nobody is working. Entries expire 15m after the",
    "agent's last command. Anonymous entries (the default handle `cli`, no role or",
    "description, no claims) are hidden and counted unless --all is given.",
  ],
  examples: ["who", "who --all", "who --json --repo lobby"],
  flags: {
    all: { type: "boolean", help: "also list anonymous role-less entries" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const me = ctx.identity.agent_id;
    const room = await ctx.room();
    await sweepLapses(room);
    const [everyone, load, held] = await Promise.all([
      roster(room),
      claimLoad(room),
      holders(room),
    ]);
    const absent = held.holders.filter((h) => !h.presence.present);
    const anonymous = (e: PresenceEntry) =>
      e.description === "" && (e.identity.handle === DEFAULT_HANDLE || e.identity.handle === "") &&
      e.identity.agent_id !== me && (load.get(e.identity.agent_id) ?? 0) === 0;
    const entries = ctx.bool("all") ? everyone : everyone.filter((e) => !anonymous(e));
    const hidden = everyone.length - entries.length;
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
        hidden,
        absent_holders: absent.map((h) => ({
          agent_id: h.agent_id,
          ...presenceJson(h.presence),
          leases: h.leases,
          windows: h.windows,
          claims: h.claims,
        })),
      });
      return 0;
    }
    const hiddenNote = hidden > 0
      ? `(${hidden} anonymous role-less ${
        hidden === 1 ? "entry" : "entries"
      } hidden; --all shows them)`
      : "";
    if (entries.length === 0) {
      ctx.out.line("(nobody here; absence from this list is no proof that nobody is working)");
      if (hiddenNote) ctx.out.line(hiddenNote);
      absentLines(ctx, absent);
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
    if (hiddenNote) ctx.out.line(hiddenNote);
    absentLines(ctx, absent);
    return 0;
  },
};

/** Holders without live presence, after the roster. */
function absentLines(ctx: Context, absent: Holder[]): void {
  if (absent.length === 0) return;
  ctx.out.line("holding without live presence (break with 'lease break' / 'claim --steal'):");
  for (const h of absent) {
    ctx.out.line(
      `  ${terminalText(h.agent_id)}  [${absenceNote(h.presence)}]  holds ${heldText(h)}`,
    );
  }
}

/** `1 lease, 2 claims`. */
export function heldText(h: Holder): string {
  const part = (n: number, one: string) => n === 0 ? [] : [`${n} ${one}${n === 1 ? "" : "s"}`];
  return [
    ...part(h.leases.length, "lease"),
    ...part(h.windows.length, "window"),
    ...part(h.claims.length, "claim"),
  ].join(", ");
}
