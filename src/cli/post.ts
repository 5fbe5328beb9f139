/**
 * `agentroom post <type> [payload]`: publish an event.
 *
 * @module
 */
import { basename, isAbsolute, join } from "node:path";
import { decodePayload, type JsonValue } from "../codec.ts";
import { AgentroomError, PayloadTooLargeError } from "../errors.ts";
import { MAX_HANDLE_LENGTH, sanitizeHandle } from "../identity.ts";
import { sendPrivate } from "../inbox.ts";
import { recordPending, settlePending } from "../liveness.ts";
import { countSend, DEFAULT_RATE_LIMIT, type RateLimit, type RateMode } from "../rate.ts";
import { refusedError } from "./errors.ts";
import { MAX_ASK_TIMEOUT_MS } from "../messaging.ts";
import { parseDuration } from "./_args.ts";
import { heartbeat, joinDescription, refreshPresence, roster } from "../presence.ts";
import {
  checkPayloadSize,
  MAX_SCRATCHPAD_BYTES,
  validateEventType,
  validateStreamId,
} from "../room.ts";
import { resolveTarget } from "../targets.ts";
import { UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { setTaskMeta } from "../queue.ts";
import { priorityAndTags } from "./tasks.ts";
import { eventJson } from "./_output.ts";

/** The post command. */
export const post: Command = {
  name: "post",
  summary: "publish an event to the room",
  usage:
    "post <type> [payload] [--to ID] [--reply-to ID] [--private] [--expect-reply [--within D]] [--file PATH] [--priority N] [--tag T]...",
  details: [
    "A payload that parses as JSON is stored as JSON; any other text is stored as a JSON string.",
    "A JSON object payload with 'role' or 'working_on' also labels your presence in 'who'.",
    "Use -- before a payload that starts with '-'.",
    "--priority and --tag give a task its place in 'claim --next' (else its catalog defaults).",
    "--file stores the file in the room's scratchpad (binary-safe, at most 4 MiB, lives as long",
    "as the room) and posts a reference: the recipient's digest shows the drop, and",
    "'agentroom pad get <pad>' or 'agentroom inbox --save-files DIR' writes it out.",
    "--private (needs --to): only into the recipient's inbox, not the room's shared feed; its id",
    "is its inbox entry id. Private means not in the feed, not confidential: anyone with access",
    "to Redis can read it. --expect-reply (needs --to) records the message in your pending-reply",
    "ledger ('agentroom pending'), due --within (default 10m); a post --reply-to <id> to you, or",
    "reply, settles it.",
    "Rate gate: sends per sender and target are counted per window (AGENTROOM_RATE_LIMIT,",
    "default 30/1m); over the limit a send is audited and delivered with a warning (observe, the",
    "default), or refused (exit 1) with --rate-gate enforce or AGENTROOM_RATE_GATE=enforce.",
  ],
  examples: [
    `post NOTE "tests are green on main"`,
    `post STATUS '{"role":"reviewer","working_on":"auth refactor"}'`,
    `post QUESTION "who owns src/db?" --to reviewer`,
    `post FILE "the failing log" --file build.log --to reviewer`,
    `post NOTE "your branch breaks main" --to builder --private`,
    `post REVIEW "PR 12 ready" --to reviewer --expect-reply --within 30m`,
  ],
  flags: {
    to: {
      type: "string",
      value: "ID",
      help: "address one agent (live id, handle or prefix) or a room key",
    },
    "reply-to": { type: "string", value: "ID", help: "id of the event this answers" },
    priority: {
      type: "string",
      value: "N",
      help: "task priority, -1000..1000 (higher first for 'claim --next')",
    },
    tag: { type: "string", multiple: true, value: "T", help: "task tag (repeatable)" },
    file: {
      type: "string",
      value: "PATH",
      help: "drop a file: store it in the scratchpad, post a reference",
    },
    private: { type: "boolean", help: "only into the recipient's inbox, not the shared feed" },
    "expect-reply": { type: "boolean", help: "record it in your pending-reply ledger" },
    within: {
      type: "string",
      value: "DURATION",
      help: "when the reply is due (default 10m, max 24h)",
    },
    "rate-gate": {
      type: "string",
      value: "MODE",
      help: "observe (default), enforce or off (AGENTROOM_RATE_GATE)",
    },
  },
  args: { min: 1, max: 2, what: "<type> [payload]" },
  run: async (ctx: Context) => {
    const [type = "", text = ""] = ctx.line.positionals;
    validateEventType(type);
    const filePath = ctx.flag("file");
    const drop = filePath === undefined ? undefined : await readDrop(ctx, filePath);
    const given = decodePayload(text);
    const payload = drop === undefined
      ? given
      : { ...(text === "" ? {} : { note: given }), file: { ...drop.ref } } as JsonValue;
    const replyTo = ctx.flag("reply-to");
    if (replyTo !== undefined) validateStreamId(replyTo);
    const meta = priorityAndTags(ctx, "post");
    const isPrivate = ctx.bool("private");
    const expectReply = ctx.bool("expect-reply");
    if ((isPrivate || expectReply) && ctx.flag("to") === undefined) {
      throw new UsageError(
        `--${isPrivate ? "private" : "expect-reply"} needs --to <agent>`,
        "post",
      );
    }
    const withinText = ctx.flag("within");
    if (withinText !== undefined && !expectReply) {
      throw new UsageError("--within goes with --expect-reply", "post");
    }
    const withinMs = withinText === undefined ? 10 * 60_000 : parseDuration(withinText);
    if (withinMs === undefined || withinMs === 0 || withinMs > MAX_ASK_TIMEOUT_MS) {
      throw new UsageError(
        `--within must be a duration from 1s to 24h (90s, 30m), got ${JSON.stringify(withinText)}`,
        "post",
      );
    }
    const gate = rateGate(ctx);
    const agent = ctx.identity;
    const room = await ctx.room();
    let to = "";
    let mailbox = false;
    const rawTo = ctx.flag("to");
    if (rawTo !== undefined) {
      const target = resolveTarget(rawTo, await roster(room));
      if (target.kind === "ambiguous") {
        throw new AgentroomError(
          "invalid_value",
          `--to ${JSON.stringify(rawTo)} is ambiguous; candidates: ${target.candidates.join(", ")}`,
        );
      }
      if (target.kind === "verbatim" && target.reason === "no-match") {
        mailbox = isMailboxName(target.to);
        if (!mailbox) {
          ctx.out.warn(
            `no live agent matches --to ${JSON.stringify(rawTo)} and it is not a valid handle; ` +
              `posting verbatim`,
          );
        }
      }
      to = target.to;
    }
    advise(ctx, type, payload, rawTo);
    if (drop) await room.writeScratchpad(drop.ref.pad, drop.bytes, room.config.streamTtlMs);
    checkPayloadSize(room.config, payload); // refused before the rate gate counts it
    if (gate.mode !== "off") {
      const rate = await countSend(room, {
        from: agent.agent_id,
        to,
        type,
        limit: gate.limit,
        mode: gate.mode,
      });
      if (rate.over) {
        const what = `${rate.count} sends to ${to || "the room"} within ${gate.text}, over the ` +
          `limit of ${gate.limit.count} (audited)`;
        if (gate.mode === "enforce") {
          throw refusedError(
            `rate gate: refused: ${what}; wait, or raise AGENTROOM_RATE_LIMIT`,
          );
        }
        ctx.out.warn(`rate gate: ${what}; delivered (observe mode)`);
      }
    }
    const event = isPrivate
      ? await sendPrivate(room, { agent, to, type, payload, reply_to: replyTo })
      : await room.publish({ type, agent, payload, to, reply_to: replyTo, inbox: true, mailbox });
    if (meta.priority !== undefined || meta.tags !== undefined) {
      await setTaskMeta(room, event.id, meta);
    }
    if (expectReply) {
      await recordPending(room, {
        sender: agent.agent_id,
        id: event.id,
        to,
        type,
        sentAt: event.timestamp,
        withinMs,
      });
    }
    if (replyTo !== undefined && to !== "") await settlePending(room, { sender: to, id: replyTo });
    const label = labelOf(payload);
    if (label !== "") await heartbeat(room, { identity: agent, description: label });
    else await refreshPresence(room, agent);
    const kept = mailbox && !isPrivate;
    if (ctx.json) ctx.out.json(kept ? { ...eventJson(event), mailbox: to } : eventJson(event));
    else {
      const where = isPrivate ? `privately to ${to}'s inbox` : `as ${agent.agent_id}`;
      ctx.out.line(
        `posted ${event.type} ${where} (entry ${event.id})` +
          (kept
            ? `; no live agent is ${to}: kept in the mailbox of handle ${to}, ` +
              `delivered to the first agent that joins as ${to}`
            : ""),
      );
    }
    return 0;
  },
};

/** What a file drop's event carries: where the bytes are and what they are. */
export interface FileRef {
  /** The scratchpad key holding the bytes. */
  pad: string;
  /** The file's base name. */
  name: string;
  /** Its size in bytes. */
  bytes: number;
  /** Its SHA-256, hex. */
  sha256: string;
}

/** Reads a file to drop, checking its size before anything is written. */
async function readDrop(ctx: Context, path: string): Promise<{ ref: FileRef; bytes: Uint8Array }> {
  const full = isAbsolute(path) ? path : join(ctx.cwd, path);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const info = await Deno.stat(full);
    if (!info.isFile) throw new UsageError(`--file ${JSON.stringify(path)} is not a file`, "post");
    if (info.size > MAX_SCRATCHPAD_BYTES) {
      throw new PayloadTooLargeError(info.size, MAX_SCRATCHPAD_BYTES, `Cannot drop ${path}: it`);
    }
    bytes = await Deno.readFile(full);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PayloadTooLargeError) throw error;
    throw new UsageError(
      `cannot read --file ${JSON.stringify(path)}: ${(error as Error).message}`,
      "post",
    );
  }
  if (bytes.length > MAX_SCRATCHPAD_BYTES) {
    throw new PayloadTooLargeError(bytes.length, MAX_SCRATCHPAD_BYTES, `Cannot drop ${path}: it`);
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    bytes,
    ref: {
      pad: `file:${crypto.randomUUID()}`,
      name: basename(full),
      bytes: bytes.length,
      sha256,
    },
  };
}

/** A no-match destination kept in a mailbox: a valid handle or agent id. */
function isMailboxName(name: string): boolean {
  return name.length <= MAX_HANDLE_LENGTH && sanitizeHandle(name) === name;
}

function labelOf(payload: unknown): string {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return "";
  const record = payload as Record<string, unknown>;
  const role = typeof record.role === "string" ? record.role : "";
  const workingOn = typeof record.working_on === "string" ? record.working_on : "";
  return joinDescription(role, workingOn);
}

function advise(ctx: Context, type: string, payload: unknown, rawTo: string | undefined): void {
  if (
    rawTo === undefined && payload !== null && typeof payload === "object" &&
    !Array.isArray(payload) && "to" in payload
  ) {
    ctx.out.warn(`payload field "to" is data only; use --to for actual delivery`);
  }
  if (type === "CLAIMED" || type === "CLAIM_UPDATED") {
    ctx.out.warn(`a ${type} event is advisory and does not prevent collisions`);
  }
  if (type === "REPLY" && ctx.flag("reply-to") === undefined) {
    ctx.out.warn("a REPLY without --reply-to is not correlated with any question");
  }
}

function rateGate(ctx: Context): { mode: RateMode; limit: RateLimit; text: string } {
  const rawMode = ctx.flag("rate-gate") ?? ctx.env("AGENTROOM_RATE_GATE") ?? "observe";
  if (rawMode !== "observe" && rawMode !== "enforce" && rawMode !== "off") {
    throw new UsageError(
      `rate gate must be observe, enforce or off, got ${JSON.stringify(rawMode)}`,
      "post",
    );
  }
  const rawLimit = ctx.env("AGENTROOM_RATE_LIMIT");
  if (rawLimit === undefined) return { mode: rawMode, limit: DEFAULT_RATE_LIMIT, text: "1m" };
  const match = rawLimit.match(/^(\d{1,6})\/(.+)$/);
  const windowMs = match ? parseDuration(match[2]!) : undefined;
  const count = match ? Number(match[1]) : 0;
  if (!match || count < 1 || windowMs === undefined || windowMs === 0 || windowMs > 86_400_000) {
    throw new UsageError(
      `AGENTROOM_RATE_LIMIT must be <sends>/<duration> like 30/1m, got ${JSON.stringify(rawLimit)}`,
      "post",
    );
  }
  return { mode: rawMode, limit: { count, windowMs }, text: match[2]! };
}
