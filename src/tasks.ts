/**
 * Task discovery and exactly-once claims.
 *
 * A task is an event whose type is registered in the room's catalog; its id is
 * the stream entry id. A claim is a lease with a TTL: exactly one agent holds
 * it at a time, and a crashed owner's task becomes claimable again when the
 * lease lapses. Every state change writes its audit event (`TASK_CLAIMED`,
 * `TASK_RELEASED`, `TASK_DONE`) in the same script, on Redis server time.
 *
 * Open tasks are kept in an index maintained by the publish, claim and
 * complete scripts, so listing them costs the same at 100 or 100,000 events.
 *
 * @module
 */
import { confirmDurable } from "./durability.ts";
import type { JsonValue, RoomEvent } from "./codec.ts";
import { decodePayload, decodeStreamEntry } from "./codec.ts";
import { InvalidValueError } from "./errors.ts";
import { DAY_MS } from "./limits.ts";
import type { AgentIdentity } from "./identity.ts";
import { type Room, validateEventType, validateStreamId } from "./room.ts";
import { CLAIM, COMPLETE, INDEX_TASKS, LIVE_CLAIMS, RELEASE, TASK_STEAL } from "./scripts.ts";
import { oneLine } from "./sanitize.ts";
import {
  type ClaimResult,
  type CompleteResult,
  decodeClaimReply,
  decodeCompleteReply,
  decodeReleaseReply,
  decodeStealReply,
  intReply,
  type ReleaseResult,
  type StealResult,
  textsReply,
} from "./replies.ts";

/** A catalog entry: a kind of work agents can claim. */
export interface TaskDef {
  /** Event type of tasks of this kind. */
  type: string;
  /** What the work is. */
  description: string;
  /** What finishing it produces (free text). */
  produces?: string;
  /** What it needs (free text). */
  requires?: string;
  /** An event type that must have appeared in the room before a claim succeeds. */
  prereq?: string;
  /** Default priority of tasks of this kind (higher first in `claimNext`). @default 0 */
  priority?: number;
  /** Default tags of tasks of this kind. */
  tags?: string[];
}

/** Lowest and highest task priority. */
export const PRIORITY_RANGE = [-1000, 1000] as const;
/** Most tags per task, and the longest tag. */
export const MAX_TAGS = 20;

/** Checks a priority: a whole number in {@linkcode PRIORITY_RANGE}. */
export function checkPriority(priority: number): number {
  if (
    !Number.isSafeInteger(priority) || priority < PRIORITY_RANGE[0] ||
    priority > PRIORITY_RANGE[1]
  ) {
    throw new InvalidValueError(
      `Invalid priority ${priority}: a whole number from ${PRIORITY_RANGE[0]} to ${
        PRIORITY_RANGE[1]
      }`,
    );
  }
  return priority;
}

/** Checks tags: 1–64 characters each, letters, digits and `._:/-`; de-duplicated, sorted. */
export function checkTags(tags: readonly string[]): string[] {
  const clean = [...new Set(tags.map((t) => t.trim()))].sort();
  if (clean.length > MAX_TAGS) throw new InvalidValueError(`Too many tags: at most ${MAX_TAGS}`);
  for (const tag of clean) {
    if (!/^[A-Za-z0-9._:/-]{1,64}$/.test(tag)) {
      throw new InvalidValueError(
        `Invalid tag ${JSON.stringify(tag)}: 1-64 letters, digits or . _ : / -`,
      );
    }
  }
  return clean;
}

/** Longest accepted claim lease. */
export const MAX_CLAIM_TTL_MS: number = DAY_MS;
/** Default claim lease. */
export const DEFAULT_CLAIM_TTL_MS = 5 * 60_000;

export type { ClaimResult, CompleteResult, ReleaseResult, StealResult } from "./replies.ts";

/** Where a task stands. */
export type TaskState =
  | { state: "open"; task: RoomEvent }
  | { state: "claimed"; task: RoomEvent; owner: string; ttlMs: number }
  | { state: "done"; task: RoomEvent | undefined; result: JsonValue };

function checkTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_CLAIM_TTL_MS) {
    throw new InvalidValueError(
      `Cannot claim task: ttl must be between 1 ms and 24h, got ${ttlMs} ms`,
    );
  }
  return ttlMs;
}

/**
 * The keys of the claim, complete and release scripts: core, claims index,
 * the task's owner, the claim-owners hash.
 */
function taskKeys(room: Room, id: string): string[] {
  return [...room.keys.core, room.keys.claims, room.keys.taskOwner(id), room.keys.claimOwners];
}

/**
 * Registers (or overwrites) a task type. Tasks of that type published before
 * the registration are added to the open index once.
 *
 * @param room the room
 * @param def the definition
 * @returns how many earlier events became open tasks
 */
export async function registerTask(room: Room, def: TaskDef): Promise<number> {
  validateEventType(def.type);
  if (def.prereq !== undefined && def.prereq !== "") validateEventType(def.prereq);
  const clean: TaskDef = { type: def.type, description: def.description };
  if (def.produces) clean.produces = def.produces;
  if (def.requires) clean.requires = def.requires;
  if (def.prereq) clean.prereq = def.prereq;
  if (def.priority !== undefined && def.priority !== 0) {
    clean.priority = checkPriority(def.priority);
  }
  if (def.tags && def.tags.length > 0) clean.tags = checkTags(def.tags);
  const { keys, config } = room;
  const [isNew] = await room.redis.pipeline([
    ["HSET", keys.catalog, def.type, JSON.stringify(clean)],
    ...(config.streamTtlMs > 0 ? [["PEXPIRE", keys.catalog, config.streamTtlMs]] : []),
  ]);
  if (isNew instanceof Error) throw isNew;
  return isNew === 1 ? await backfill(room, def.type) : 0;
}

// Walks the stream once for events of a newly registered type. Events
// published after the HSET above are indexed by the publish script itself.
async function backfill(room: Room, type: string): Promise<number> {
  let added = 0;
  let cursor = "-";
  for (;;) {
    const batch = await room.redis.call(["XRANGE", room.keys.events, cursor, "+", "COUNT", 1000]);
    if (!Array.isArray(batch) || batch.length === 0) return added;
    const ids: string[] = [];
    for (const entry of batch) {
      const event = decodeStreamEntry(entry);
      if (event?.type === type) ids.push(event.id);
    }
    if (ids.length > 0) {
      added += intReply(
        INDEX_TASKS,
        await room.redis.evalScript(INDEX_TASKS, [room.keys.openTasks, room.keys.done], ids),
      );
    }
    cursor = `(${(batch.at(-1) as [string])[0]}`;
    if (batch.length < 1000) return added;
  }
}

/**
 * The catalog, sorted by type. Malformed entries are skipped.
 *
 * @param room the room
 */
export async function catalog(room: Room): Promise<TaskDef[]> {
  const flat = await room.redis.call(["HGETALL", room.keys.catalog]) as string[];
  const defs: TaskDef[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      const def = JSON.parse(flat[i + 1]!) as TaskDef;
      if (typeof def.type === "string") defs.push(def);
    } catch {
      // skip an entry another tool wrote
    }
  }
  return defs.sort((a, b) => a.type.localeCompare(b.type));
}

/**
 * Claims a task for `agent` with a lease of `ttlMs`. Exactly one agent wins.
 *
 * @param room the room
 * @param options task id, agent, lease TTL, and `force` to skip the prerequisite gate
 * @returns the outcome
 * @throws {InvalidValueError} for a malformed id or a TTL outside 1 ms–24h
 */
export async function claimTask(
  room: Room,
  options: { taskId: string; agent: AgentIdentity; ttlMs?: number; force?: boolean },
): Promise<ClaimResult> {
  const id = validateStreamId(options.taskId);
  const ttl = checkTtl(options.ttlMs ?? DEFAULT_CLAIM_TTL_MS);
  const { config } = room;
  let previous = await room.redis.call(["HGET", room.keys.claimOwners, id]);
  for (;;) {
    const prev = typeof previous === "string" ? previous : "";
    const result = decodeClaimReply(
      await room.redis.evalScript(CLAIM, [
        ...taskKeys(room, id),
        room.keys.inbox(prev === "" ? options.agent.agent_id : prev),
        room.keys.inboxRecipients,
      ], [
        id,
        options.agent.agent_id,
        ttl,
        options.force ? "1" : "0",
        config.streamTtlMs,
        config.streamMaxLen,
        options.agent.handle,
        options.agent.session_id,
        prev,
        config.inboxMaxLen,
        config.inboxTtlMs,
      ]),
    );
    if (result.outcome === "claimed" || result.outcome === "renewed") {
      return await confirmDurable(room, `claim of task ${id}`, result);
    }
    if (result.outcome !== "retry") return result;
    previous = result.previous;
  }
}

/** What {@linkcode stealTask} needs. */
export interface StealTaskOptions {
  /** The task. */
  taskId: string;
  /** Who takes it over. */
  agent: AgentIdentity;
  /** The new claim's lease. @default 5 minutes */
  ttlMs?: number;
  /** Why (one line, optional; audited and sent to the former holder). */
  reason?: string;
  /** How long the holder must have been absent. @default the room's presence TTL */
  graceMs?: number;
  /** Skip the grace period (still refused while the holder is present; audited). */
  now?: boolean;
}

/**
 * Takes over a claimed task whose holder has no live presence and has been
 * absent longer than the grace period (or at once with `now`). One atomic
 * script moves the claim, writes `TASK_STOLEN` addressed to the former
 * holder and copies it into its inbox; of concurrent stealers exactly one
 * succeeds.
 *
 * @param room the room
 * @param options task id, agent, TTL, reason, grace, `now`
 * @returns the outcome
 * @throws {InvalidValueError} for a malformed id, TTL, reason or grace period
 */
export async function stealTask(room: Room, options: StealTaskOptions): Promise<StealResult> {
  const id = validateStreamId(options.taskId);
  const ttl = checkTtl(options.ttlMs ?? DEFAULT_CLAIM_TTL_MS);
  const reason = oneLine(options.reason ?? "").trim();
  if (Array.from(reason).length > 500) {
    throw new InvalidValueError("Invalid reason: longer than 500 characters");
  }
  const grace = options.graceMs ?? room.config.presenceTtlMs;
  if (!Number.isSafeInteger(grace) || grace < 0) {
    throw new InvalidValueError(`Invalid grace period: ${grace} ms`);
  }
  const { config } = room;
  for (;;) {
    const holder = await room.redis.call(["GET", room.keys.taskOwner(id)]);
    if (typeof holder !== "string") {
      const done = await room.redis.call(["HEXISTS", room.keys.done, id]);
      return { outcome: done === 1 ? "done" : "not_held" };
    }
    const result = decodeStealReply(
      await room.redis.evalScript(TASK_STEAL, [
        ...taskKeys(room, id),
        room.keys.presenceIndex,
        room.keys.presenceEnds,
        room.keys.inbox(holder),
        room.keys.inboxRecipients,
      ], [
        id,
        options.agent.agent_id,
        ttl,
        config.streamTtlMs,
        config.streamMaxLen,
        options.agent.handle,
        options.agent.session_id,
        holder,
        grace,
        options.now ? "1" : "0",
        reason,
        config.inboxMaxLen,
        config.inboxTtlMs,
      ]),
      holder,
    );
    if (result.outcome === "stolen") {
      return await confirmDurable(room, `takeover of task ${id}`, result);
    }
    if (result.outcome !== "changed") return result;
  }
}

/**
 * Completes a task: marks it done with `result`, clears the claim and the
 * open entry. Anyone may complete (the previous owner is reported) unless
 * `strict`, which only lets the current lease owner complete.
 *
 * @param room the room
 * @param options task id, completing agent, result, strict
 * @returns the outcome
 */
export async function completeTask(
  room: Room,
  options: { taskId: string; agent: AgentIdentity; result?: JsonValue; strict?: boolean },
): Promise<CompleteResult> {
  const id = validateStreamId(options.taskId);
  const { config } = room;
  const result = JSON.stringify(options.result ?? null);
  const size = new TextEncoder().encode(result).length;
  if (config.maxPayloadBytes > 0 && size > config.maxPayloadBytes) {
    throw new InvalidValueError(
      `Cannot complete task: result is ${size} bytes, max ${config.maxPayloadBytes} bytes`,
    );
  }
  const reply = await room.redis.evalScript(COMPLETE, taskKeys(room, id), [
    id,
    options.agent.agent_id,
    result,
    options.strict ? "1" : "0",
    config.streamTtlMs,
    config.streamMaxLen,
    options.agent.handle,
    options.agent.session_id,
  ]);
  const done = decodeCompleteReply(reply);
  if (done.outcome !== "completed") return done;
  return await confirmDurable(room, `completion of task ${id}`, done);
}

/**
 * Gives a claim back before its lease lapses (owner only).
 *
 * @param room the room
 * @param options task id and the owner
 * @returns the outcome
 */
export async function releaseTask(
  room: Room,
  options: { taskId: string; agent: AgentIdentity },
): Promise<ReleaseResult> {
  const id = validateStreamId(options.taskId);
  const { config } = room;
  const reply = await room.redis.evalScript(RELEASE, taskKeys(room, id), [
    id,
    options.agent.agent_id,
    config.streamTtlMs,
    config.streamMaxLen,
    options.agent.handle,
    options.agent.session_id,
  ]);
  const released = decodeReleaseReply(reply);
  if (released.outcome !== "released") return released;
  return await confirmDurable(room, `release of task ${id}`, released);
}

/**
 * Where one task stands: open, claimed (owner and TTL left) or done (result).
 *
 * @param room the room
 * @param taskId the task id
 * @returns the state, or `undefined` when no such task exists
 */
export async function taskState(room: Room, taskId: string): Promise<TaskState | undefined> {
  const id = validateStreamId(taskId);
  const { keys } = room;
  const [done, owner, ttl, entries, defs] = await room.redis.pipeline([
    ["HGET", keys.done, id],
    ["GET", keys.taskOwner(id)],
    ["PTTL", keys.taskOwner(id)],
    ["XRANGE", keys.events, id, id],
    ["HKEYS", keys.catalog],
  ]);
  for (const reply of [done, owner, ttl, entries, defs]) if (reply instanceof Error) throw reply;
  const task = Array.isArray(entries) ? decodeStreamEntry(entries[0]) : undefined;
  if (typeof done === "string") return { state: "done", task, result: decodePayload(done) };
  if (!task || !(defs as string[]).includes(task.type)) return undefined;
  if (typeof owner === "string") {
    return { state: "claimed", task, owner, ttlMs: Math.max(0, Number(ttl)) };
  }
  return { state: "open", task };
}

/**
 * Unclaimed, undone tasks, newest first. Reads the open index page by page,
 * so the cost depends on `count` and on live claims, not on stream length.
 *
 * @param room the room
 * @param count how many at most
 */
export async function openTasks(room: Room, count: number): Promise<RoomEvent[]> {
  const { keys } = room;
  const open: RoomEvent[] = [];
  const page = Math.max(count * 2, 50);
  for (let start = 0; open.length < count; start += page) {
    const ids = await room.redis.call(["ZREVRANGE", keys.openTasks, start, start + page - 1]);
    if (!Array.isArray(ids) || ids.length === 0) break;
    const replies = await room.redis.pipeline(
      (ids as string[]).flatMap((id) => [
        ["EXISTS", keys.taskOwner(id)],
        ["XRANGE", keys.events, id, id],
      ]),
    );
    const gone: string[] = [];
    (ids as string[]).forEach((id, i) => {
      const claimed = replies[2 * i];
      const entries = replies[2 * i + 1];
      if (claimed instanceof Error) throw claimed;
      if (entries instanceof Error) throw entries;
      const event = Array.isArray(entries) ? decodeStreamEntry(entries[0]) : undefined;
      if (!event) gone.push(id);
      else if (claimed === 0 && open.length < count) open.push(event);
    });
    if (gone.length > 0) await room.redis.call(["ZREM", keys.openTasks, ...gone]);
    if (ids.length < page) break;
    start -= gone.length; // the removed ids shifted the following ones up
  }
  return open;
}

/**
 * Live claims: task id, holder and expiry (Unix ms, server clock), soonest
 * expiry first.
 *
 * @param room the room
 */
export async function liveClaims(
  room: Room,
): Promise<{ task_id: string; owner: string; expires_at: number }[]> {
  const flat = textsReply(
    LIVE_CLAIMS,
    await room.redis.evalScript(LIVE_CLAIMS, [room.keys.claims], []),
  );
  const ids = flat.filter((_, i) => i % 2 === 0);
  if (ids.length === 0) return [];
  const owners = await room.redis.pipeline(ids.map((id) => ["GET", room.keys.taskOwner(id)]));
  const out: { task_id: string; owner: string; expires_at: number }[] = [];
  ids.forEach((id, i) => {
    const owner = owners[i];
    if (typeof owner === "string") {
      out.push({ task_id: id, owner, expires_at: Number(flat[2 * i + 1]) });
    }
  });
  return out;
}

/**
 * Live claims per agent (the "claim load" shown by `who`).
 *
 * @param room the room
 * @returns agent id → number of live claims
 */
export async function claimLoad(room: Room): Promise<Map<string, number>> {
  const load = new Map<string, number>();
  for (const c of await liveClaims(room)) load.set(c.owner, (load.get(c.owner) ?? 0) + 1);
  return load;
}
