/**
 * `agentroom work <state>`: report what you are doing in one scope.
 *
 * @module
 */
import { refreshPresence, roster } from "../presence.ts";
import { terminalText } from "../sanitize.ts";
import {
  DEFAULT_WORK_TTL_MS,
  isWorkState,
  setWorkStatus,
  WORK_STATES,
} from "../coordination/work.ts";
import { UsageError } from "./_args.ts";
import type { Command } from "./_context.ts";
import { durationFlag, liveAgent, requiredFlag } from "./_coord.ts";

/** The work command. */
export const work: Command = {
  name: "work",
  actions: WORK_STATES,
  summary: "report your work status in a scope: started|waiting|blocked|handoff|completed|failed",
  usage: "work <state> --scope S --summary T [--to AGENT] [--data JSON] [--ttl 24h]",
  details: [
    "One current status per scope; a newer one replaces it. completed and failed clear it",
    "(the WORK_STATUS event stays in the room). handoff needs --to; any status with --to is",
    "also delivered to that agent's inbox. --to takes a live agent id, handle or unique prefix.",
    "--data is JSON, stored exactly as given.",
  ],
  examples: [
    `work started --scope auth --summary "refactoring the session store"`,
    `work blocked --scope auth --summary "waiting for the schema" --to db-owner`,
    `work handoff --scope auth --summary "tests left to fix" --to reviewer --data '{"pr":42}'`,
    `work completed --scope auth --summary "merged"`,
  ],
  flags: {
    scope: { type: "string", value: "S", help: "what part of the work (a task id, path, feature)" },
    summary: { type: "string", value: "TEXT", help: "one line on where it stands" },
    to: { type: "string", value: "AGENT", help: "destination agent (required for handoff)" },
    data: { type: "string", value: "JSON", help: "JSON data stored with the status" },
    ttl: { type: "string", value: "DURATION", help: "how long it stays current (default 24h)" },
  },
  args: { min: 1, max: 1, what: `<${WORK_STATES.join("|")}>` },
  run: async (ctx) => {
    const state = ctx.line.positionals[0]!;
    if (!isWorkState(state)) {
      throw new UsageError(
        `unknown work state ${JSON.stringify(state)}; expected ${WORK_STATES.join("|")}`,
        "work",
      );
    }
    const scope = requiredFlag(ctx, "work", "scope", "auth");
    const summary = requiredFlag(ctx, "work", "summary", `"refactoring the session store"`);
    const rawTo = ctx.flag("to");
    if (state === "handoff" && (rawTo === undefined || rawTo.trim() === "")) {
      throw new UsageError("handoff requires --to AGENT, the agent taking over", "work");
    }
    const dataJson = ctx.flag("data");
    if (dataJson !== undefined) {
      try {
        JSON.parse(dataJson);
      } catch {
        throw new UsageError(`--data must be JSON, got ${JSON.stringify(dataJson)}`, "work");
      }
    }
    const ttlMs = durationFlag(ctx, "work", "ttl", DEFAULT_WORK_TTL_MS);
    const agent = ctx.identity;
    const room = await ctx.room();
    const to = rawTo === undefined || rawTo.trim() === ""
      ? undefined
      : liveAgent("to", rawTo, await roster(room));
    const r = await setWorkStatus(room, { agent, state, scope, summary, to, dataJson, ttlMs });
    await refreshPresence(room, agent);
    if (ctx.json) ctx.out.json(r.status);
    else {
      const dest = to === undefined ? "" : ` (delivered to ${terminalText(to)})`;
      ctx.out.line(`work ${state}: ${terminalText(scope)}: ${terminalText(summary)}${dest}`);
    }
    return 0;
  },
};
