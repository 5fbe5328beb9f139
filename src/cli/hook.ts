/**
 * `agentroom hook <event>`: the hook handlers for Claude Code and Codex.
 *
 * @module
 */
import { hookMain } from "../../hooks/main.ts";
import { HOOK_EVENTS } from "../../hooks/mod.ts";
import { UsageError } from "./_args.ts";
import type { Command } from "./_context.ts";

/** The hook command. */
export const hook: Command = {
  name: "hook",
  actions: Object.keys(HOOK_EVENTS),
  summary: "answer a Claude Code / Codex hook (JSON on stdin, one JSON line out)",
  usage: "hook <session-start|user-prompt-submit|session-end|pre-tool-use|post-tool-use|stop>",
  details: [
    "Reads the harness's hook JSON on stdin and prints one hookSpecificOutput line, or nothing.",
    "Never fails the session: on bad input, Redis down or a passed deadline it prints nothing",
    "and exits 0. AGENTROOM_HOOK_TIMEOUT_MS sets the deadline (default 1500),",
    "AGENTROOM_HOOK_BUDGET the context size cap (default 8000), AGENTROOM_GUARD=warn|off",
    "softens or disables pre-tool-use's denial of edits of files another session holds, AGENTROOM_HOOK_DEBUG=1 prints",
    "swallowed errors to stderr. Redis comes from AGENTROOM_REDIS_URL (else REDIS_URL, REDIS_ADDR);",
    "AGENTROOM_REDIS_CLUSTER=1 treats it as a seed node of a Redis Cluster.",
  ],
  examples: [
    `hook session-start < payload.json`,
    `echo '{"session_id":"s1","prompt":"hi"}' | agentroom hook user-prompt-submit`,
  ],
  flags: {},
  args: { min: 1, max: 1, what: "<event>" },
  run: async (ctx) => {
    const event = ctx.line.positionals[0]!;
    const code = await hookMain(event, ctx.io);
    if (code === undefined) {
      throw new UsageError(
        `unknown hook event ${
          JSON.stringify(event)
        }; expected session-start, user-prompt-submit, session-end, pre-tool-use, post-tool-use or stop`,
        "hook",
      );
    }
    return code;
  },
};
