/**
 * Script replies read strictly. Every decoder of a Lua script's reply reads
 * it through {@linkcode ScriptReply}, so a reply of another shape (another
 * tag, a missing item, a number where text was due) throws one
 * {@linkcode UnexpectedReplyError} naming the script and the reply, never a
 * plausible outcome. The decoders of the core scripts (publish, presence,
 * cursors, tasks, welcome) live here too, as pure functions of the reply;
 * the coordination scripts' decoders are in `coordination/replies.ts`. Not
 * exported from `mod.ts`.
 *
 * @module
 */
import { UnexpectedReplyError } from "./errors.ts";
import type { LuaScript } from "./redis/port.ts";
import {
  CLAIM,
  COMPLETE,
  DLQ_RETRY,
  PRUNE_CONSUMER,
  PUBLISH,
  RELEASE,
  ROSTER,
  RUNTIME_FAIL,
  TASK_STEAL,
  WELCOME,
} from "./scripts.ts";

/** A script's reply with the script's name, read item by item. */
export class ScriptReply {
  /** The script's name. */
  readonly script: string;
  /** The raw reply. */
  readonly reply: unknown;

  /**
   * Wraps `reply` from `script`.
   * @param script the script (or its name)
   * @param reply what the script returned
   */
  constructor(script: LuaScript | string, reply: unknown) {
    this.script = typeof script === "string" ? script : script.name;
    this.reply = reply;
  }

  /** The error for this reply, to throw where no case matches. */
  unexpected(): UnexpectedReplyError {
    return new UnexpectedReplyError(this.script, this.reply);
  }

  /** The reply as an array of `min` to `max` items. */
  items(min = 0, max = Infinity): unknown[] {
    const r = this.reply;
    if (!Array.isArray(r) || r.length < min || r.length > max) throw this.unexpected();
    return r;
  }

  /** The first item of an array reply, a string: the outcome tag. */
  tag(): string {
    const first = this.items(1)[0];
    if (typeof first !== "string") throw this.unexpected();
    return first;
  }

  /** Item `i`, which must be a string. */
  text(i: number): string {
    const item = this.items(i + 1)[i];
    if (typeof item !== "string") throw this.unexpected();
    return item;
  }

  /** Item `i`, an integer or its decimal text. */
  int(i: number): number {
    return toInt(this, this.items(i + 1)[i]);
  }

  /** Item `i`, an array of strings. */
  texts(i: number): string[] {
    const item = this.items(i + 1)[i];
    if (!Array.isArray(item) || !item.every((x) => typeof x === "string")) {
      throw this.unexpected();
    }
    return item;
  }

  /** The items from `i` on, all strings. */
  rest(i: number): string[] {
    const tail = this.items(i).slice(i);
    if (!tail.every((x) => typeof x === "string")) throw this.unexpected();
    return tail;
  }

  /** Item `i` (JSON text) through `decode`; a decoding failure is an unexpected reply. */
  record<T>(i: number, decode: (json: string) => T): T {
    return this.decoded(this.text(i), decode);
  }

  /** `decode(json)`, turning its failure into an unexpected reply. */
  decoded<T>(json: string, decode: (json: string) => T): T {
    try {
      return decode(json);
    } catch (error) {
      throw new UnexpectedReplyError(this.script, this.reply, { cause: error });
    }
  }
}

function toInt(r: ScriptReply, value: unknown): number {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && /^-?\d+$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isSafeInteger(n)) throw r.unexpected();
  return n;
}

/**
 * A reply that is a single integer (or its decimal text).
 *
 * @param script the script
 * @param reply its reply
 * @throws {UnexpectedReplyError} for anything else
 */
export function intReply(script: LuaScript, reply: unknown): number {
  return toInt(new ScriptReply(script, reply), reply);
}

/**
 * A reply that is a single string.
 *
 * @param script the script
 * @param reply its reply
 * @throws {UnexpectedReplyError} for anything else
 */
export function textReply(script: LuaScript, reply: unknown): string {
  if (typeof reply !== "string") throw new UnexpectedReplyError(script.name, reply);
  return reply;
}

/**
 * A reply that is a flat list of strings.
 *
 * @param script the script
 * @param reply its reply
 * @throws {UnexpectedReplyError} for anything else
 */
export function textsReply(script: LuaScript, reply: unknown): string[] {
  return new ScriptReply(script, reply).rest(0);
}

/** What the publish script stored: the entry id, its server timestamp, the inbox copy's id. */
export interface PublishReply {
  /** The stream entry id. */
  id: string;
  /** Redis server time of the entry, Unix ms. */
  timestamp: number;
  /** The inbox copy's entry id, or `""` when none was written. */
  inboxId: string;
}

/** Decodes the publish script's `{ id, timestamp, inbox id or "" }`. */
export function decodePublishReply(reply: unknown): PublishReply {
  const r = new ScriptReply(PUBLISH, reply);
  r.items(3, 3);
  return { id: r.text(0), timestamp: r.int(1), inboxId: r.text(2) };
}

/** Decodes the welcome script's `{ id, timestamp, replaced id or "" }`. */
export function decodeWelcomeReply(reply: unknown): { id: string; replaced: string } {
  const r = new ScriptReply(WELCOME, reply);
  r.items(3, 3);
  r.int(1);
  return { id: r.text(0), replaced: r.text(2) };
}

/** Decodes the roster script's `{ now, { member, expiry, … } }` into the members. */
export function decodeRosterReply(reply: unknown): string[] {
  const r = new ScriptReply(ROSTER, reply);
  r.items(2, 2);
  r.int(0);
  const flat = r.texts(1);
  if (flat.length % 2 !== 0) throw r.unexpected();
  return flat.filter((_, i) => i % 2 === 0);
}

/** The result of a claim attempt; contention is a value, not an exception. */
export type ClaimResult =
  | { outcome: "claimed" | "renewed"; expiresAt: number; auditId: string }
  | { outcome: "held"; owner: string; ttlMs: number }
  | { outcome: "done" }
  | { outcome: "prereq"; prereq: string }
  | { outcome: "unknown" }
  | { outcome: "not_task"; type: string };

/** The claim script's request to read the previous holder again (internal). */
export type ClaimRetry = { outcome: "retry"; previous: string };

/** The result of taking over the claim of an absent holder (`stealTask`). */
export type StealResult =
  | {
    outcome: "stolen";
    expiresAt: number;
    auditId: string;
    formerOwner: string;
    absentMs?: number;
  }
  | { outcome: "not_held" }
  | { outcome: "done" }
  | { outcome: "own" }
  | { outcome: "present"; owner: string }
  | { outcome: "grace"; owner: string; absentMs: number; graceMs: number };

/** The result of completing a task. */
export type CompleteResult =
  | { outcome: "completed"; previousOwner: string; auditId: string }
  | { outcome: "done" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "not_claimed" }
  | { outcome: "unknown" }
  | { outcome: "not_task"; type: string };

/** The result of releasing a claim. */
export type ReleaseResult =
  | { outcome: "released"; auditId: string }
  | { outcome: "not_held" }
  | { outcome: "not_owner"; owner: string };

/** Decodes the claim script's reply (see `lua/claim.lua`). */
export function decodeClaimReply(reply: unknown): ClaimResult | ClaimRetry {
  const r = new ScriptReply(CLAIM, reply);
  switch (r.tag()) {
    case "ok": {
      r.items(4, 4);
      const how = r.text(3);
      if (how !== "claimed" && how !== "renewed") throw r.unexpected();
      return { outcome: how, expiresAt: r.int(1), auditId: r.text(2) };
    }
    case "held":
      r.items(3, 3);
      return { outcome: "held", owner: r.text(1), ttlMs: r.int(2) };
    case "prereq":
      r.items(2, 2);
      return { outcome: "prereq", prereq: r.text(1) };
    case "not_task":
      r.items(2, 2);
      return { outcome: "not_task", type: r.text(1) };
    case "retry":
      r.items(2, 2);
      return { outcome: "retry", previous: r.text(1) };
    case "done":
    case "unknown":
      r.items(1, 1);
      return { outcome: r.tag() as "done" | "unknown" };
    default:
      throw r.unexpected();
  }
}

/** Decodes the complete script's reply (see `lua/complete.lua`). */
export function decodeCompleteReply(reply: unknown): CompleteResult {
  const r = new ScriptReply(COMPLETE, reply);
  switch (r.tag()) {
    case "ok":
      r.items(3, 3);
      return { outcome: "completed", previousOwner: r.text(1), auditId: r.text(2) };
    case "not_owner":
      r.items(2, 2);
      return { outcome: "not_owner", owner: r.text(1) };
    case "not_task":
      r.items(2, 2);
      return { outcome: "not_task", type: r.text(1) };
    case "not_claimed":
    case "done":
    case "unknown":
      r.items(1, 1);
      return { outcome: r.tag() as "not_claimed" | "done" | "unknown" };
    default:
      throw r.unexpected();
  }
}

/** Decodes the release script's reply (see `lua/release.lua`). */
export function decodeReleaseReply(reply: unknown): ReleaseResult {
  const r = new ScriptReply(RELEASE, reply);
  switch (r.tag()) {
    case "ok":
      r.items(2, 2);
      return { outcome: "released", auditId: r.text(1) };
    case "not_owner":
      r.items(2, 2);
      return { outcome: "not_owner", owner: r.text(1) };
    case "not_held":
      r.items(1, 1);
      return { outcome: "not_held" };
    default:
      throw r.unexpected();
  }
}

/** Decodes the task_steal script's reply (see `lua/task_steal.lua`); `formerOwner` is filled by the caller. */
export function decodeStealReply(
  reply: unknown,
  formerOwner: string,
): StealResult | { outcome: "changed"; owner: string } {
  const r = new ScriptReply(TASK_STEAL, reply);
  switch (r.tag()) {
    case "ok": {
      r.items(4, 4);
      const absent = r.int(3);
      return {
        outcome: "stolen",
        expiresAt: r.int(1),
        auditId: r.text(2),
        formerOwner,
        ...(absent >= 0 ? { absentMs: absent } : {}),
      };
    }
    case "not_held":
    case "done":
    case "own":
      r.items(1, 1);
      return { outcome: r.tag() as "not_held" | "done" | "own" };
    case "changed":
    case "present":
      r.items(2, 2);
      return { outcome: r.tag() as "changed" | "present", owner: r.text(1) };
    case "grace":
      r.items(4, 4);
      return { outcome: "grace", owner: r.text(1), absentMs: r.int(2), graceMs: r.int(3) };
    default:
      throw r.unexpected();
  }
}

/** What `runtime_fail.lua` did with a failed attempt. */
export type RuntimeFailReply =
  | { outcome: "retry"; attempts: number }
  | { outcome: "dead"; attempts: number; deadId: string }
  | { outcome: "gone"; attempts: number };

/** Decodes the reply of `runtime_fail.lua`. */
export function decodeRuntimeFailReply(reply: unknown): RuntimeFailReply {
  const r = new ScriptReply(RUNTIME_FAIL, reply);
  switch (r.tag()) {
    case "retry":
      r.items(2, 2);
      return { outcome: "retry", attempts: r.int(1) };
    case "gone":
      r.items(2, 2);
      return { outcome: "gone", attempts: r.int(1) };
    case "dead":
      r.items(3, 3);
      return { outcome: "dead", attempts: r.int(1), deadId: r.text(2) };
  }
  throw r.unexpected();
}

/** Decodes the reply of `dlq_retry.lua`: the new room entry id, or `undefined` when missing. */
export function decodeDlqRetryReply(reply: unknown): string | undefined {
  const r = new ScriptReply(DLQ_RETRY, reply);
  switch (r.tag()) {
    case "retried":
      r.items(2, 2);
      return r.text(1);
    case "missing":
      r.items(1, 1);
      return undefined;
  }
  throw r.unexpected();
}

/** Decodes the reply of `prune_consumer.lua`: whether the consumer was removed. */
export function decodePruneConsumerReply(reply: unknown): boolean {
  const r = new ScriptReply(PRUNE_CONSUMER, reply);
  switch (r.tag()) {
    case "pruned":
      r.items(1, 1);
      return true;
    case "busy":
      r.items(2, 2);
      r.int(1);
      return false;
  }
  throw r.unexpected();
}
