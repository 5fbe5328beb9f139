/**
 * `agentroom watch`: `tail --follow` for agents. Prints one fenced line per
 * new event (room content inside a per-run `[room-data <marker>]` fence, the
 * notice once at the start), suited to Claude Code's Monitor tool and
 * background tasks. Ends cleanly on Ctrl-C/SIGTERM; exits 1 with one line when
 * Redis goes away.
 *
 * @module
 */
import { Fence } from "../fence.ts";
import { listFlag } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { eventJson } from "./_output.ts";
import { eventFilter, follow } from "./tail.ts";

/** The watch command. */
export const watch: Command = {
  name: "watch",
  summary: "stream new events as fenced lines for an agent (Monitor tool, background task)",
  usage: "watch [--to-me] [--type T]... [--from AGENT] [--json]",
  details: [
    "Starts at the end of the room and prints each new event as one line with its room content",
    "inside a [room-data <marker>] fence (the marker is random per run; a notice line first),",
    "so an agent can tell quoted room data from instructions. --json prints JSON Lines instead.",
    "Runs until interrupted; exits 1 with one error line when Redis goes away.",
  ],
  examples: ["watch --to-me", "watch --type QUESTION,HANDOFF", "watch --json"],
  flags: {
    "to-me": { type: "boolean", help: "only events addressed to you" },
    type: {
      type: "string",
      multiple: true,
      value: "T",
      help: "only these types (repeat or comma-separate)",
    },
    from: { type: "string", value: "AGENT", help: "only events from this agent id or handle" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    listFlag(ctx.line.values.type); // validates before connecting
    const filter = eventFilter(ctx);
    const room = await ctx.room();
    const start = await room.lastId();
    const fence = new Fence();
    if (!ctx.json) ctx.out.line(fence.notice);
    await follow(ctx, room, start, filter, (event) => {
      if (ctx.json) ctx.out.json(eventJson(event));
      else ctx.out.line(fence.event(event));
    });
    return 0;
  },
};
