/**
 * AgentCoord-style board commands: `hung` (holders that went quiet),
 * `thread <id>` (a reply_to chain as one conversation) and `decide` (the
 * decision log).
 *
 * @module
 */
import type { RoomEvent } from "../codec.ts";
import { hungHolders } from "../coordination/holders.ts";
import { NotFoundError } from "../errors.ts";
import { absenceNote, minutes, refreshPresence } from "../presence.ts";
import { validateEventType, validateStreamId } from "../room.ts";
import { terminalText } from "../sanitize.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Command } from "./_context.ts";
import { presenceJson } from "./_coord.ts";
import { eventJson, eventLines } from "./_output.ts";
import { heldText } from "./who.ts";

/** Default `hung --threshold`. */
export const DEFAULT_HUNG_THRESHOLD_MS = 10 * 60_000;

/** `hung` */
export const hung: Command = {
  name: "hung",
  summary: "agents that hold claims, leases or windows but went quiet",
  usage: "hung [--threshold 10m] [--json]",
  details: [
    "Lists holders with no live presence, and present holders whose latest heartbeat is older",
    "than --threshold (default 10m), with what they hold. End an absent holder's hold with",
    "'lease break' or 'claim --steal' once it has been away longer than the grace period.",
  ],
  examples: ["hung", "hung --threshold 5m --json"],
  flags: {
    threshold: {
      type: "string",
      value: "DURATION",
      help: "heartbeat age from which a present holder counts (default 10m)",
    },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const text = ctx.flag("threshold");
    const thresholdMs = text === undefined ? DEFAULT_HUNG_THRESHOLD_MS : parseDuration(text);
    if (thresholdMs === undefined || thresholdMs > 24 * 3_600_000) {
      throw new UsageError(
        `--threshold must be a duration up to 24h such as 10m, got ${JSON.stringify(text)}`,
        "hung",
      );
    }
    const room = await ctx.room();
    const list = await hungHolders(room, thresholdMs);
    if (ctx.json) {
      ctx.out.json({
        threshold_ms: thresholdMs,
        hung: list.map((h) => ({
          agent_id: h.agent_id,
          ...presenceJson(h.presence),
          ...(h.presence.silentMs === undefined ? {} : { silent_ms: h.presence.silentMs }),
          leases: h.leases,
          windows: h.windows,
          claims: h.claims,
        })),
      });
      return 0;
    }
    if (list.length === 0) ctx.out.line("(no hung holders)");
    for (const h of list) {
      const state = h.presence.present
        ? `present, silent ${minutes(h.presence.silentMs ?? 0)}`
        : absenceNote(h.presence);
      ctx.out.line(`${terminalText(h.agent_id)}  [${state}]  holds ${heldText(h)}`);
    }
    return 0;
  },
};

/** Most events a thread shows, and how far back its replies are looked up. */
const THREAD_LIMIT = 200;
const THREAD_SCAN = 5_000;

/** `thread <id>` */
export const thread: Command = {
  name: "thread",
  summary: "show a reply_to chain as one conversation, oldest first",
  usage: "thread <event-id> [--json]",
  details: [
    "Follows reply_to from the event up to the first message, then adds every later reply",
    "to any message of the conversation (among the newest 5000 events).",
  ],
  examples: ["thread 1763700000000-0", "thread 1763700000000-0 --json"],
  flags: {},
  args: { min: 1, max: 1, what: "<event-id>" },
  run: async (ctx) => {
    const id = ctx.line.positionals[0]!;
    try {
      validateStreamId(id);
    } catch {
      throw new UsageError(
        `event id must be a stream id like 1763700000000-0, got ${JSON.stringify(id)}`,
        "thread",
      );
    }
    const room = await ctx.room();
    const start = await room.eventById(id);
    if (!start) throw new NotFoundError(`event ${id} not found in this room`);
    const chain: RoomEvent[] = [start];
    for (let e = start; e.reply_to !== "" && chain.length < THREAD_LIMIT;) {
      const parent = await room.eventById(e.reply_to);
      if (!parent) break;
      chain.unshift(parent);
      e = parent;
    }
    const ids = new Set(chain.map((e) => e.id));
    const later: RoomEvent[] = [];
    for (const e of await room.recent(THREAD_SCAN)) {
      if (later.length + chain.length >= THREAD_LIMIT) break;
      if (!ids.has(e.id) && e.reply_to !== "" && ids.has(e.reply_to)) {
        ids.add(e.id);
        later.push(e);
      }
    }
    const all = [...chain, ...later].sort((a, b) => a.timestamp - b.timestamp);
    if (ctx.json) ctx.out.json({ thread: all.map(eventJson) });
    else for (const e of all) for (const line of eventLines(e)) ctx.out.line(line);
    return 0;
  },
};

/** Longest decision context or reason, in characters. */
const MAX_DECISION_TEXT = 2_000;

/** `decide <type> --context C --reason R` */
export const decide: Command = {
  name: "decide",
  summary: "record a decision (a structured DECISION event: the decision log)",
  usage: "decide <type> --context C --reason R [--json]",
  details: [
    "Publishes DECISION with payload {decision, context, reason}; 'tail --type DECISION'",
    "lists the decision log.",
  ],
  examples: [
    `decide retry-policy --context "flaky upstream" --reason "cap retries at 30s"`,
    "tail --type DECISION",
  ],
  flags: {
    context: { type: "string", value: "TEXT", help: "what the decision is about (required)" },
    reason: { type: "string", value: "TEXT", help: "why (required)" },
  },
  args: { min: 1, max: 1, what: "<type>" },
  run: async (ctx) => {
    const type = ctx.line.positionals[0]!;
    try {
      validateEventType(type);
    } catch (error) {
      throw new UsageError(`decision type: ${(error as Error).message}`, "decide");
    }
    const text = (flag: string) => {
      const value = ctx.flag(flag)?.trim() ?? "";
      if (value === "") {
        throw new UsageError(`--${flag} is required, e.g. --${flag} "..."`, "decide");
      }
      if (Array.from(value).length > MAX_DECISION_TEXT) {
        throw new UsageError(`--${flag} is longer than ${MAX_DECISION_TEXT} characters`, "decide");
      }
      return value;
    };
    const context = text("context");
    const reason = text("reason");
    const me = ctx.identity;
    const room = await ctx.room();
    const event = await room.publish({
      type: "DECISION",
      agent: me,
      payload: { decision: type, context, reason },
    });
    await refreshPresence(room, me);
    if (ctx.json) ctx.out.json(eventJson(event));
    else {ctx.out.line(
        `recorded DECISION ${terminalText(type)} as ${me.agent_id} (entry ${event.id})`,
      );}
    return 0;
  },
};
