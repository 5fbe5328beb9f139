/**
 * `agentroom post <type> [payload]`: publish an event.
 *
 * @module
 */
import { decodePayload } from "../codec.ts";
import { AgentroomError } from "../errors.ts";
import { MAX_HANDLE_LENGTH, sanitizeHandle } from "../identity.ts";
import { heartbeat, joinDescription, refreshPresence, roster } from "../presence.ts";
import { validateEventType, validateStreamId } from "../room.ts";
import { resolveTarget } from "../targets.ts";
import type { Command, Context } from "./_context.ts";
import { eventJson } from "./_output.ts";

/** The post command. */
export const post: Command = {
  name: "post",
  summary: "publish an event to the room",
  usage: "post <type> [payload] [--to ID] [--reply-to ID]",
  details: [
    "A payload that parses as JSON is stored as JSON; any other text is stored as a JSON string.",
    "A JSON object payload with 'role' or 'working_on' also labels your presence in 'who'.",
    "Use -- before a payload that starts with '-'.",
  ],
  examples: [
    `post NOTE "tests are green on main"`,
    `post STATUS '{"role":"reviewer","working_on":"auth refactor"}'`,
    `post QUESTION "who owns src/db?" --to reviewer`,
  ],
  flags: {
    to: {
      type: "string",
      value: "ID",
      help: "address one agent (live id, handle or prefix) or a room key",
    },
    "reply-to": { type: "string", value: "ID", help: "id of the event this answers" },
  },
  args: { min: 1, max: 2, what: "<type> [payload]" },
  run: async (ctx: Context) => {
    const [type = "", text = ""] = ctx.line.positionals;
    validateEventType(type);
    const payload = decodePayload(text);
    const replyTo = ctx.flag("reply-to");
    if (replyTo !== undefined) validateStreamId(replyTo);
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
    const event = await room.publish({
      type,
      agent,
      payload,
      to,
      reply_to: replyTo,
      inbox: true,
      mailbox,
    });
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
