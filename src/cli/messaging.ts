/**
 * Messaging commands: `inbox`, `ask`, `reply`, `wait`, `welcome`.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { Fence } from "../fence.ts";
import { decodePayload, type RoomEvent } from "../codec.ts";
import { terminalText } from "../sanitize.ts";
import { LOBBY, roomConfig } from "../config.ts";
import { TimeoutError } from "../errors.ts";
import { inboxHistory, markInboxRead, unreadInbox } from "../inbox.ts";
import {
  ask as askAgent,
  MAX_ASK_TIMEOUT_MS,
  pinWelcome,
  reply as replyTo,
  waitForEvent,
} from "../messaging.ts";
import { refreshPresence, roster } from "../presence.ts";
import { Room, validateEventType, validateStreamId } from "../room.ts";
import { resolveLiveTarget } from "../targets.ts";
import { intFlag, listFlag, parseDuration, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { eventJson, eventLines, formatDuration } from "./_output.ts";

function durationFlag(ctx: Context, command: string, flag: string, fallback: number): number {
  const text = ctx.flag(flag);
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms > MAX_ASK_TIMEOUT_MS) {
    throw new UsageError(
      `--${flag} must be a duration up to 24h (90s, 10m), got ${JSON.stringify(text)}`,
      command,
    );
  }
  return ms;
}

function printEvent(ctx: Context, event: RoomEvent): void {
  if (ctx.json) ctx.out.json(eventJson(event));
  else for (const line of eventLines(event)) ctx.out.line(line);
}

/**
 * Writes the file a drop event refers to into `dir` under its base name
 * (made safe; never overwriting: `name (2).ext`), and says where.
 */
async function saveDrop(ctx: Context, room: Room, event: RoomEvent, dir: string): Promise<void> {
  const payload = event.payload;
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return;
  const file = (payload as Record<string, unknown>).file as Record<string, unknown> | undefined;
  if (!file || typeof file.pad !== "string") return;
  const bytes = await room.readScratchpadBytes(file.pad).catch(() => undefined);
  if (bytes === undefined) {
    ctx.out.warn(`the file of ${event.id} is gone (its scratchpad entry expired or was removed)`);
    return;
  }
  const base = (typeof file.name === "string" ? file.name : "")
    // deno-lint-ignore no-control-regex
    .replace(/[\/\\\u0000-\u001f\u007f]/g, "_").replace(/^\.+/, "_").slice(0, 120) || "file";
  const target = isAbsolute(dir) ? dir : join(ctx.cwd, dir);
  await Deno.mkdir(target, { recursive: true });
  const dot = base.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ""];
  for (let n = 1; n < 1000; n++) {
    const path = join(target, n === 1 ? base : `${stem} (${n})${ext}`);
    try {
      await Deno.writeFile(path, bytes, { createNew: true });
      ctx.out.line(terminalText(`saved ${path} (${bytes.length} bytes, from ${event.agent_id})`));
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/** `inbox` */
export const inbox: Command = {
  name: "inbox",
  summary: "read messages addressed to you (marks them read)",
  usage: "inbox [--all] [--count N] [--fenced] [--json]",
  details: [
    "Directed events (post --to, ask, reply, handoffs) land in the recipient's durable inbox,",
    "so messages sent while you were away wait for you. Each is shown once; --all shows the",
    "whole inbox again without changing what is unread. --fenced prints each message inside",
    "a per-output [room-data <marker>] fence (for an agent reading the output), as the hooks do.",
  ],
  examples: ["inbox", "inbox --json", "inbox --all --count 50", "inbox --fenced"],
  flags: {
    all: { type: "boolean", help: "show read messages too (does not mark anything)" },
    fenced: { type: "boolean", help: "fence each message as untrusted data (for agents)" },
    "save-files": {
      type: "string",
      value: "DIR",
      help: "write the files dropped to you (post --file) into DIR",
    },
    count: {
      type: "string",
      short: "n",
      value: "N",
      help: "how many at most (default 100, max 1000)",
    },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const count = intFlag("inbox", "count", ctx.flag("count"), 100);
    if (count < 1 || count > 1000) {
      throw new UsageError(`--count must be between 1 and 1000, got ${count}`, "inbox");
    }
    const me = ctx.identity;
    const room = await ctx.room();
    const recipient = me.agent_id;
    // a presence write first: it moves what waited in the mailbox of this
    // handle or id into the inbox (`inbox --all` only reads)
    if (!ctx.bool("all")) await refreshPresence(room, me);
    const entries = ctx.bool("all")
      ? await inboxHistory(room, { recipient, count })
      : await unreadInbox(room, { recipient, count });
    if (!ctx.json && entries.length === 0) {
      ctx.out.line(ctx.bool("all") ? "(inbox is empty)" : "(no unread messages)");
    }
    if (ctx.bool("fenced") && !ctx.json) {
      const fence = new Fence();
      if (entries.length > 0) ctx.out.line(fence.notice);
      for (const entry of entries) ctx.out.line(fence.event(entry.event));
    } else for (const entry of entries) printEvent(ctx, entry.event);
    const saveDir = ctx.flag("save-files");
    if (saveDir !== undefined) {
      for (const entry of entries) await saveDrop(ctx, room, entry.event, saveDir);
    }
    const last = entries.at(-1);
    if (!ctx.bool("all")) {
      // reading unread messages marks them read
      if (last) await markInboxRead(room, { recipient, inboxId: last.inbox_id });
    }
    return 0;
  },
};

/** `ask <message> --to AGENT` */
export const askCommand: Command = {
  name: "ask",
  summary: "ask one live agent a question and wait for its reply",
  usage: "ask <message> --to <agent> [--timeout 10m]",
  details: [
    "Publishes ASK to one live agent (exact id, unique handle or unique prefix) and into its",
    "inbox, then waits for a REPLY to that ASK from that agent. One pending ask per agent.",
    "Exit 1 on timeout (the question stays in their inbox), 3 when you already have a pending ask.",
  ],
  examples: [
    `ask "is the retry cap 30s?" --to reviewer`,
    `ask "ready to merge?" --to builder --timeout 2m`,
  ],
  flags: {
    to: { type: "string", value: "AGENT", help: "the live agent to ask (required)" },
    timeout: { type: "string", value: "DURATION", help: "how long to wait (default 10m, max 24h)" },
  },
  args: { min: 1, max: 1, what: "<message>" },
  run: async (ctx) => {
    const message = decodePayload(ctx.line.positionals[0]!);
    const rawTo = ctx.flag("to");
    if (rawTo === undefined) throw new UsageError("missing --to <agent>", "ask");
    const timeoutMs = durationFlag(ctx, "ask", "timeout", 10 * 60_000);
    if (timeoutMs === 0) throw new UsageError("--timeout must be greater than 0", "ask");
    const me = ctx.identity;
    const room = await ctx.room();
    const to = resolveLiveTarget(rawTo, await roster(room));
    const result = await askAgent(room, {
      agent: me,
      to,
      message,
      timeoutMs,
      onAsked: (asked) => {
        if (!ctx.json) ctx.out.line(`asked ${to} as ${me.agent_id} (entry ${asked.id})`);
      },
    });
    await refreshPresence(room, me);
    if (!result.reply) {
      throw new TimeoutError(
        `ask timed out after ${
          formatDuration(timeoutMs)
        } without a reply from ${to}; the question stays in their inbox (entry ${result.ask.id})`,
      );
    }
    if (ctx.json) ctx.out.json({ ask: eventJson(result.ask), reply: eventJson(result.reply) });
    else printEvent(ctx, result.reply);
    return 0;
  },
};

/** `reply <ask-id> <message>` */
export const replyCommand: Command = {
  name: "reply",
  summary: "answer an ASK (correlated, and delivered to the asker's inbox)",
  usage: "reply <ask-id> <message>",
  examples: [`reply 1763700000000-0 "yes, capped at 30s"`],
  flags: {},
  args: { min: 2, max: 2, what: "<ask-id> <message>" },
  run: async (ctx) => {
    const [askId, text] = ctx.line.positionals as [string, string];
    try {
      validateStreamId(askId);
    } catch {
      throw new UsageError(
        `ask id must be a stream id like 1763700000000-0, got ${JSON.stringify(askId)}`,
        "reply",
      );
    }
    const me = ctx.identity;
    const room = await ctx.room();
    const event = await replyTo(room, { agent: me, askId, message: decodePayload(text) });
    await refreshPresence(room, me);
    if (ctx.json) ctx.out.json(eventJson(event));
    else ctx.out.line(`replied to ${askId} as ${me.agent_id} (entry ${event.id})`);
    return 0;
  },
};

/** `wait` */
export const wait: Command = {
  name: "wait",
  summary: "block until the next event (optionally only ones addressed to you)",
  usage: "wait [--to-me] [--type T]... [--timeout D] [--json]",
  details: [
    "Waits with blocking stream reads (no polling). Exit 1 when --timeout passes first, or",
    "when Redis stops answering (each read is bounded, so a stopped server is noticed).",
  ],
  examples: ["wait --to-me --timeout 5m", "wait --type TASK_DONE --type BUILD_OK", "wait --json"],
  flags: {
    "to-me": { type: "boolean", help: "only events addressed to you" },
    type: {
      type: "string",
      multiple: true,
      value: "T",
      help: "only events of this type (repeatable; comma lists work too)",
    },
    timeout: {
      type: "string",
      value: "DURATION",
      help: "give up after this long (default: wait forever)",
    },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const timeoutMs = durationFlag(ctx, "wait", "timeout", 0);
    const types = new Set(listFlag(ctx.line.values.type));
    for (const type of types) {
      try {
        validateEventType(type);
      } catch (error) {
        throw new UsageError(`--type: ${(error as Error).message}`, "wait");
      }
    }
    const me = ctx.identity;
    const room = await ctx.room();
    await refreshPresence(room, me);
    const toMe = ctx.bool("to-me");
    const event = await waitForEvent(room, {
      afterId: await room.lastId(),
      timeoutMs,
      filter: (e) => (!toMe || e.to === me.agent_id) && (types.size === 0 || types.has(e.type)),
    });
    if (!event) throw new TimeoutError(`wait timed out after ${formatDuration(timeoutMs)}`);
    printEvent(ctx, event);
    return 0;
  },
};

/** `welcome` */
export const welcome: Command = {
  name: "welcome",
  summary: "pin the canonical WELCOME event in the lobby (replaces the previous one)",
  usage: "welcome [--json]",
  details: ["Always writes to the lobby, whatever --repo says. The pinned copy never expires."],
  examples: ["welcome"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const room = await ctx.room();
    const lobby = new Room(room.redis, roomConfig(LOBBY));
    const pinned = await pinWelcome(lobby, {
      agent_id: "concierge",
      handle: "concierge",
      session_id: "",
    });
    if (ctx.json) ctx.out.json(pinned);
    else {
      const replaced = pinned.replaced ? `, replacing ${pinned.replaced}` : "";
      ctx.out.line(`welcome pinned to lobby (no expiry); entry ${pinned.id}${replaced}`);
    }
    return 0;
  },
};
