/**
 * The task queue (AgentCoord parity): tasks carry a priority and tags (per
 * task, or defaults from their catalog entry), and {@linkcode claimNext}
 * takes the highest-priority open task carrying every wanted tag, first in
 * first out within a priority, skipping tasks whose prerequisite has not
 * appeared. Each candidate is taken through the claim script, which lets
 * exactly one agent win a task; a loser moves on to the next candidate, so
 * racing agents end up with distinct tasks.
 *
 * @module
 */
import type { RoomEvent } from "./codec.ts";
import { decodeStreamEntry } from "./codec.ts";
import type { AgentIdentity } from "./identity.ts";
import type { Room } from "./room.ts";
import {
  catalog,
  checkPriority,
  checkTags,
  type ClaimResult,
  claimTask,
  DEFAULT_CLAIM_TTL_MS,
  type TaskDef,
} from "./tasks.ts";

/** Priority and tags of one task, as set when it was posted. */
export interface TaskMeta {
  /** Higher first. */
  priority?: number;
  /** Tags, sorted. */
  tags?: string[];
}

/** An open task with its effective priority and tags. */
export interface QueuedTask {
  /** The task event. */
  task: RoomEvent;
  /** Its priority (its own, else its catalog default, else 0). */
  priority: number;
  /** Its tags (its own, else its catalog default). */
  tags: string[];
}

/** Most candidates one {@linkcode claimNext} tries. */
export const CLAIM_NEXT_CANDIDATES = 32;

/**
 * Records a task's priority and tags (call right after publishing it).
 *
 * @param room the room
 * @param taskId the task event id
 * @param meta priority and tags
 * @throws {InvalidValueError} for a bad priority or tag (nothing is written)
 */
export async function setTaskMeta(room: Room, taskId: string, meta: TaskMeta): Promise<void> {
  const clean: TaskMeta = {};
  if (meta.priority !== undefined) clean.priority = checkPriority(meta.priority);
  if (meta.tags !== undefined && meta.tags.length > 0) clean.tags = checkTags(meta.tags);
  if (clean.priority === undefined && clean.tags === undefined) return;
  await room.redis.pipeline([
    ["HSET", room.keys.taskMeta, taskId, JSON.stringify(clean)],
    ...(room.config.streamTtlMs > 0
      ? [["PEXPIRE", room.keys.taskMeta, room.config.streamTtlMs]]
      : []),
  ]);
}

function decodeMeta(json: unknown): TaskMeta {
  if (typeof json !== "string") return {};
  try {
    const m = JSON.parse(json) as TaskMeta;
    return {
      ...(typeof m.priority === "number" ? { priority: m.priority } : {}),
      ...(Array.isArray(m.tags) ? { tags: m.tags.map(String) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * Open tasks (unclaimed, not done, prerequisite met) carrying every tag of
 * `tags`, highest priority first, oldest first within a priority.
 *
 * @param room the room
 * @param options `tags` every task must carry; `limit` most returned
 */
export async function queue(
  room: Room,
  options: { tags?: readonly string[]; limit?: number } = {},
): Promise<QueuedTask[]> {
  const wanted = checkTags(options.tags ?? []);
  const { keys } = room;
  const [ids, defs, time] = await Promise.all([
    room.redis.call(["ZRANGE", keys.openTasks, 0, -1]),
    catalog(room),
    room.serverTime(),
  ]);
  if (!Array.isArray(ids) || ids.length === 0) return [];
  const byType = new Map<string, TaskDef>(defs.map((d) => [d.type, d]));
  const out: QueuedTask[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).map(String);
    const replies = await room.redis.pipeline([
      ["HMGET", keys.taskMeta, ...chunk],
      ["HMGET", keys.done, ...chunk],
      ...chunk.map((id) => ["ZSCORE", keys.claims, id]),
      ...chunk.map((id) => ["XRANGE", keys.events, id, id]),
    ]);
    for (const r of replies) if (r instanceof Error) throw r;
    const metas = replies[0] as unknown[];
    const done = replies[1] as unknown[];
    const seen = new Set<string>();
    const prereqs = [...new Set(defs.map((d) => d.prereq).filter((p): p is string => !!p))];
    if (prereqs.length > 0) {
      const found = await room.redis.call(["HMGET", keys.typesSeen, ...prereqs]) as unknown[];
      prereqs.forEach((p, j) => {
        if (found[j] !== null && found[j] !== undefined) seen.add(p);
      });
    }
    chunk.forEach((_id, j) => {
      if (done[j] !== null && done[j] !== undefined) return;
      const claimedUntil = replies[2 + j];
      if (claimedUntil !== null && Number(claimedUntil) > time) return;
      const entries = replies[2 + chunk.length + j];
      const task = Array.isArray(entries) ? decodeStreamEntry(entries[0]) : undefined;
      if (!task) return;
      const def = byType.get(task.type);
      if (!def) return;
      if (def.prereq && !seen.has(def.prereq)) return;
      const meta = decodeMeta(metas[j]);
      const tags = meta.tags ?? def.tags ?? [];
      if (!wanted.every((t) => tags.includes(t))) return;
      out.push({ task, priority: meta.priority ?? def.priority ?? 0, tags });
    });
  }
  // the open index is in stream order: a stable sort keeps FIFO within a priority
  out.sort((a, b) => b.priority - a.priority);
  return options.limit === undefined ? out : out.slice(0, options.limit);
}

/** The result of {@linkcode claimNext}. */
export type ClaimNextResult =
  | { outcome: "claimed"; task: QueuedTask; expiresAt: number; auditId: string }
  | { outcome: "empty" };

/**
 * Claims the highest-priority open task carrying every tag of `tags`
 * (FIFO within a priority; prerequisite-gated tasks skipped). Each task is
 * won by exactly one agent; a caller that loses a race takes the next one.
 *
 * @param room the room
 * @param options the claimer, wanted tags, claim TTL
 * @returns the claimed task, or `empty` when none is left
 * @throws {InvalidValueError} for a bad tag or TTL (nothing is written)
 */
export async function claimNext(
  room: Room,
  options: { agent: AgentIdentity; tags?: readonly string[]; ttlMs?: number },
): Promise<ClaimNextResult> {
  for (let round = 0; round < 10; round++) {
    const candidates = await queue(room, { tags: options.tags, limit: CLAIM_NEXT_CANDIDATES });
    if (candidates.length === 0) return { outcome: "empty" };
    for (const candidate of candidates) {
      const r: ClaimResult = await claimTask(room, {
        taskId: candidate.task.id,
        agent: options.agent,
        ttlMs: options.ttlMs ?? DEFAULT_CLAIM_TTL_MS,
      });
      if (r.outcome === "claimed") {
        return { outcome: "claimed", task: candidate, expiresAt: r.expiresAt, auditId: r.auditId };
      }
    }
    // every candidate was taken by someone else meanwhile: read the queue again
  }
  return { outcome: "empty" };
}
