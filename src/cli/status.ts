/**
 * `agentroom status`: leases, quiet windows, work, open tasks and presence
 * at a glance.
 *
 * @module
 */
import { terminalText } from "../sanitize.ts";
import { roomStatus } from "../coordination/status.ts";
import { intFlag, UsageError } from "./_args.ts";
import { sweepLapses } from "../coordination/lapses.ts";
import type { Command } from "./_context.ts";
import { leaseLine, presenceJson, windowLine } from "./_coord.ts";
import { presenceView } from "../presence.ts";
import { eventJson, formatDuration, payloadText } from "./_output.ts";

function section(title: string, count: number, lines: string[]): string[] {
  if (count === 0) return [`${title}: none`];
  const more = count > lines.length ? [`  ... and ${count - lines.length} more (--limit)`] : [];
  return [`${title} (${count}):`, ...lines.map((l) => `  ${l}`), ...more];
}

/** The status command. */
export const status: Command = {
  name: "status",
  summary: "show live leases, quiet windows, work, open tasks and who is here",
  usage: "status [--limit N] [--json]",
  details: [
    "Read from the room's indexes, so it costs the same in a long-lived room.",
    "Each list shows at most --limit entries (default 20, max 10000); counts are exact.",
  ],
  examples: ["status", "status --json --limit 1000"],
  flags: {
    limit: { type: "string", value: "N", help: "most entries per list (default 20)" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const limit = intFlag("status", "limit", ctx.flag("limit"), 20);
    if (limit < 1 || limit > 10_000) {
      throw new UsageError(`--limit must be between 1 and 10000, got ${limit}`, "status");
    }
    const room = await ctx.room();
    await sweepLapses(room);
    const [s, view] = await Promise.all([roomStatus(room, { limit }), presenceView(room)]);
    if (ctx.json) {
      ctx.out.json({
        ...s,
        leases: s.leases.map((l) => ({ ...l, owner_presence: presenceJson(view.of(l)) })),
        windows: s.windows.map((w) => ({ ...w, owner_presence: presenceJson(view.of(w)) })),
        open_tasks: s.open_tasks.map(eventJson),
      });
      return 0;
    }
    const now = s.checked_at;
    ctx.out.line(
      [
        ...section("leases", s.lease_count, s.leases.map((l) => leaseLine(l, now, view.of(l)))),
        ...section("windows", s.window_count, s.windows.map((w) => windowLine(w, now, view.of(w)))),
        ...section(
          "work",
          s.work_count,
          s.work.map((w) =>
            `${terminalText(w.agent_id)}  ${terminalText(w.state)}  ${terminalText(w.scope)}: ${
              terminalText(w.summary)
            }${w.to ? `  -> ${terminalText(w.to)}` : ""}`
          ),
        ),
        ...section(
          "open tasks",
          s.open_tasks.length,
          s.open_tasks.map((t) =>
            `${terminalText(t.id)}  ${terminalText(t.type)}  ${
              terminalText(payloadText(t.payload))
            }`
          ),
        ),
        ...section(
          "presence",
          s.presence.length,
          s.presence.map((p) =>
            `${terminalText(p.identity.agent_id)}${
              p.description ? `  ${terminalText(p.description)}` : ""
            }  (expires in ${formatDuration(p.ttl_ms)})`
          ),
        ),
      ].join("\n"),
    );
    return 0;
  },
};
