/**
 * `agentroom post <type> [payload]`: publish an event.
 *
 * @module
 */
import { basename, isAbsolute, join } from "node:path";
import { decodePayload, type JsonValue } from "../codec.ts";
import { AgentroomError, PayloadTooLargeError } from "../errors.ts";
import { MAX_HANDLE_LENGTH, sanitizeHandle } from "../identity.ts";
import { heartbeat, joinDescription, refreshPresence, roster } from "../presence.ts";
import { MAX_SCRATCHPAD_BYTES, validateEventType, validateStreamId } from "../room.ts";
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
    "post <type> [payload] [--to ID] [--reply-to ID] [--file PATH] [--priority N] [--tag T]...",
  details: [
    "A payload that parses as JSON is stored as JSON; any other text is stored as a JSON string.",
    "A JSON object payload with 'role' or 'working_on' also labels your presence in 'who'.",
    "Use -- before a payload that starts with '-'.",
    "--priority and --tag give a task its place in 'claim --next' (else its catalog defaults).",
    "--file stores the file in the room's scratchpad (binary-safe, at most 4 MiB, lives as long",
    "as the room) and posts a reference: the recipient's digest shows the drop, and",
    "'agentroom pad get <pad>' or 'agentroom inbox --save-files DIR' writes it out.",
  ],
  examples: [
    `post NOTE "tests are green on main"`,
    `post STATUS '{"role":"reviewer","working_on":"auth refactor"}'`,
    `post QUESTION "who owns src/db?" --to reviewer`,
    `post FILE "the failing log" --file build.log --to reviewer`,
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
    const event = await room.publish({
      type,
      agent,
      payload,
      to,
      reply_to: replyTo,
      inbox: true,
      mailbox,
    });
    if (meta.priority !== undefined || meta.tags !== undefined) {
      await setTaskMeta(room, event.id, meta);
    }
    const label = labelOf(payload);
    if (label !== "") await heartbeat(room, { identity: agent, description: label });
    else await refreshPresence(room, agent);
    if (ctx.json) ctx.out.json(mailbox ? { ...eventJson(event), mailbox: to } : eventJson(event));
    else {
      ctx.out.line(
        `posted ${event.type} as ${agent.agent_id} (entry ${event.id})` +
          (mailbox
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
