/**
 * `agentroom ping` (a round trip to a live process of another agent, or
 * `--answer`: answer this agent's pings until interrupted) and
 * `agentroom pending` (the replies this agent still expects).
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import {
  answerPings,
  DEFAULT_REPING_BACKOFF_MS,
  MAX_PING_TIMEOUT_MS,
  pendingOf,
  ping as pingAgent,
  sweepPending,
} from "../liveness.ts";
import { roster } from "../presence.ts";
import { terminalText } from "../sanitize.ts";
import { resolveLiveTarget } from "../targets.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { formatDuration } from "./_output.ts";

/** `ping <agent>` */
export const pingCommand: Command = {
  name: "ping",
  summary: "round trip to a live process of another agent (or --answer this agent's pings)",
  usage: "ping <agent> [--timeout 5s] [--json] | ping --answer",
  details: [
    "A ping is answered by a long-running agentroom process of that agent: its MCP server",
    "('agentroom mcp' answers while it runs) or 'agentroom ping --answer'. Prints the round-trip",
    "time, or exits 1 when nothing answered within --timeout (default 5s, max 60s): the agent",
    "may still be working, with no such process running. Nothing is written to the room's feed.",
  ],
  examples: ["ping reviewer", "ping builder --timeout 2s --json", "ping --answer"],
  flags: {
    timeout: { type: "string", value: "DURATION", help: "how long to wait (default 5s, max 60s)" },
    answer: { type: "boolean", help: "answer this agent's pings until interrupted" },
  },
  args: { min: 0, max: 1, what: "<agent>" },
  run: async (ctx) => {
    if (ctx.bool("answer")) {
      if (ctx.line.positionals.length > 0) {
        throw new UsageError("ping --answer takes no <agent>", "ping");
      }
      const me = ctx.identity;
      const room = await ctx.room();
      const stop = new AbortController();
      const release = ctx.io.onInterrupt(() => stop.abort());
      try {
        if (!ctx.json) ctx.out.line(`answering pings for ${me.agent_id} (Ctrl-C stops)`);
        await answerPings(room, {
          agent: me,
          label: "agentroom ping --answer",
          signal: stop.signal,
        }).catch((error) => {
          if (!stop.signal.aborted) throw error;
        });
      } finally {
        release();
      }
      return 0;
    }
    const raw = ctx.line.positionals[0];
    if (raw === undefined) throw new UsageError("missing argument: ping takes <agent>", "ping");
    const text = ctx.flag("timeout");
    const timeoutMs = text === undefined ? 5_000 : parseDuration(text);
    if (timeoutMs === undefined || timeoutMs === 0 || timeoutMs > MAX_PING_TIMEOUT_MS) {
      throw new UsageError(
        `--timeout must be a duration from 1ms to 60s (2s, 500ms), got ${JSON.stringify(text)}`,
        "ping",
      );
    }
    const me = ctx.identity;
    const room = await ctx.room();
    const to = resolveLiveTarget(raw, await roster(room));
    const result = await pingAgent(room, { from: me, to, timeoutMs });
    if (!result.answered) {
      if (ctx.json) ctx.out.json(result);
      throw new TimeoutError(
        `no agentroom process of ${to} answered within ${formatDuration(timeoutMs)} ` +
          "(its MCP server or 'agentroom ping --answer' answers pings; the agent may still be " +
          "working without one)",
      );
    }
    if (ctx.json) ctx.out.json(result);
    else {
      ctx.out.line(
        terminalText(
          `${to} answered in ${result.latency_ms} ms` +
            (result.answered_by ? ` (${result.answered_by})` : ""),
        ),
      );
    }
    return 0;
  },
};

/** `pending` */
export const pendingCommand: Command = {
  name: "pending",
  summary: "the replies you still expect (ask, post --expect-reply), waiting or overdue",
  usage: "pending [--json] | pending --sweep",
  details: [
    "An ask, and a post with --expect-reply, record an entry in your pending-reply ledger;",
    "the correlated reply (reply, or post --reply-to) settles it. Entries past their due time",
    "are overdue. Without --sweep it only reads.",
    "--sweep: re-ping each overdue entry whose next try is due (a REMINDER into the recipient's",
    "inbox) with backoff AGENTROOM_PENDING_BACKOFF (default 30s,60s,120s,240s), and after the",
    "last try escalate it once: an ESCALATION to AGENTROOM_PENDING_ESCALATE (an agent of this",
    "room), else in the lobby. Each step is taken by exactly one process however many sweep;",
    "agentroom mcp sweeps while it runs.",
  ],
  examples: ["pending", "pending --json", "pending --sweep"],
  flags: { sweep: { type: "boolean", help: "re-ping and escalate overdue entries once" } },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    if (ctx.bool("sweep")) return await sweep(ctx);
    const me = ctx.identity;
    const room = await ctx.room();
    const entries = await pendingOf(room, me.agent_id);
    if (ctx.json) {
      ctx.out.json({ agent_id: me.agent_id, pending: entries });
      return 0;
    }
    if (entries.length === 0) ctx.out.line("(no replies pending)");
    const now = await room.serverTime();
    for (const e of entries) {
      const when = e.state === "overdue"
        ? `overdue by ${formatDuration(now - e.due_at)}`
        : `due in ${formatDuration(e.due_at - now)}`;
      ctx.out.line(
        terminalText(`${e.id}  ${e.type}  to ${e.to}  ${e.state} (${when})`),
      );
    }
    return 0;
  },
};

function backoffOf(ctx: Context): number[] {
  const text = ctx.env("AGENTROOM_PENDING_BACKOFF");
  if (text === undefined) return [...DEFAULT_REPING_BACKOFF_MS];
  const parts = text.split(",").map((p) => parseDuration(p.trim()));
  if (parts.length === 0 || parts.length > 20 || parts.some((p) => p === undefined || p === 0)) {
    throw new UsageError(
      `AGENTROOM_PENDING_BACKOFF must be durations like 30s,60s,120s,240s, got ${
        JSON.stringify(text)
      }`,
      "pending",
    );
  }
  return parts as number[];
}

async function sweep(ctx: Context): Promise<number> {
  const backoffMs = backoffOf(ctx);
  const escalate = ctx.env("AGENTROOM_PENDING_ESCALATE")?.trim() ?? "";
  const me = ctx.identity;
  const room = await ctx.room();
  const escalateTo = escalate === "" ? "" : resolveLiveTarget(escalate, await roster(room));
  const result = await sweepPending(room, { sender: me, backoffMs, escalateTo });
  if (ctx.json) ctx.out.json(result);
  else {
    for (const id of result.repinged) ctx.out.line(`re-pinged ${id}`);
    for (const id of result.escalated) {
      ctx.out.line(terminalText(`escalated ${id} to ${escalateTo || "the lobby"}`));
    }
    if (result.repinged.length + result.escalated.length === 0) ctx.out.line("(nothing due)");
  }
  return 0;
}
