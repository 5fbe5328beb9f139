/**
 * `agentroom guard <resource>...`: may I touch these now? Exit 0 safe,
 * 3 unsafe (with the holder named), 2 bad input, 1 operational failure.
 *
 * @module
 */
import { guardResources, type GuardVerdict } from "../coordination/guard.ts";
import { terminalText } from "../sanitize.ts";
import type { Command } from "./_context.ts";
import { conflictText, idArg, resourcesArg } from "./_coord.ts";
import { conflictError } from "./errors.ts";

function unsafeText(v: Exclude<GuardVerdict, { safe: true }>, me: string): string {
  switch (v.reason) {
    case "conflict":
      return `unsafe: ${conflictText(v.conflict, me)}`;
    case "lease_missing":
      return `unsafe: lease ${v.leaseId} expired or was released; acquire the resources again ` +
        `with 'agentroom lease acquire'`;
    case "not_owner":
      return `unsafe: lease ${v.leaseId} belongs to ${terminalText(v.owner)}, not ${me}`;
    case "not_held":
      return `unsafe: you hold no lease covering ${terminalText(v.resource)} (--require-held); ` +
        `acquire it with 'agentroom lease acquire ${terminalText(v.resource)} --purpose ...'`;
  }
}

/** The guard command. */
export const guard: Command = {
  name: "guard",
  summary: "check that no one else holds a lease or quiet window on resources (exit 3 if unsafe)",
  usage: "guard <resource>... [--lease ID] [--require-held] [--json]",
  details: [
    "Safe (exit 0) unless a live lease or a pending/active quiet window of another agent",
    "overlaps a resource (exit 3, naming the holder). Your own leases and windows are never",
    "conflicts for you. --lease ID: you act under that lease; it must be live and yours, and",
    "only it counts as holding. --require-held: every resource must be covered by your lease",
    "(or your active window). What your session holds under any handle is yours. Writes nothing.",
  ],
  examples: [
    "guard path:src/db/schema.sql",
    "guard path:src/db --lease 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b --require-held --json",
  ],
  flags: {
    lease: { type: "string", value: "ID", help: "the lease you act under" },
    "require-held": { type: "boolean", help: "unsafe unless you hold every resource" },
  },
  args: { min: 1, max: Infinity, what: "<resource>..." },
  run: async (ctx) => {
    const resources = resourcesArg("guard", ctx.line.positionals);
    const leaseText = ctx.flag("lease");
    const leaseId = leaseText === undefined ? undefined : idArg("guard", "lease", leaseText);
    const agent = ctx.identity;
    const room = await ctx.room();
    const verdict = await guardResources(room, {
      agentId: agent.agent_id,
      sessionId: agent.session_id,
      resources,
      leaseId,
      requireHeld: ctx.bool("require-held"),
    });
    if (verdict.safe) {
      if (ctx.json) {
        ctx.out.json({ safe: true, held: verdict.held, checked_at: verdict.checkedAt });
      } else ctx.out.line("safe");
      return 0;
    }
    const message = unsafeText(verdict, agent.agent_id);
    if (ctx.json) {
      const { safe: _, checkedAt, ...why } = verdict;
      ctx.out.json({ safe: false, error: message, ...why, checked_at: checkedAt });
    }
    throw conflictError(message);
  },
};
