/**
 * Consumer groups of a room seen from outside: their progress (lag, pending,
 * consumers and idle times) and their dead-letter streams (list, retry, drop).
 *
 * @module
 */
import { decodeStreamEntry, type RoomEvent } from "./codec.ts";
import type { RedisReply } from "./redis/port.ts";
import { decodeDlqRetryReply } from "./replies.ts";
import { type Room, validateStreamId } from "./room.ts";
import { DLQ_RETRY } from "./scripts.ts";

/** One consumer of a group. */
export interface ConsumerInfo {
  /** Consumer name. */
  name: string;
  /** Entries delivered to it and not yet acknowledged. */
  pending: number;
  /** Milliseconds since its last attempted interaction. */
  idleMs: number;
}

/** One consumer group of the room stream. */
export interface GroupInfo {
  /** Group name. */
  name: string;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  /** Entries not yet delivered to the group (`null` when Redis cannot tell). */
  lag: number | null;
  /** Last entry id delivered to the group. */
  lastDeliveredId: string;
  /** Its consumers. */
  consumers: ConsumerInfo[];
  /** Entries in its dead-letter stream. */
  deadLetters: number;
}

/** An entry of a group's dead-letter stream. */
export interface DeadLetter {
  /** Id in the dead-letter stream. */
  deadId: string;
  /** The original event (its `id` is the original room entry id). */
  event: RoomEvent;
  /** The last error, as stored (JSON text). */
  error: string;
  /** Failed attempts. */
  attempts: number;
  /** The consumer of the last attempt. */
  consumer: string;
}

/**
 * The room stream's consumer groups.
 * @returns the groups, in Redis' order (empty when the stream does not exist)
 */
export async function listGroups(room: Room): Promise<GroupInfo[]> {
  let reply: RedisReply;
  try {
    reply = await room.redis.call(["XINFO", "GROUPS", room.keys.events]);
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return [];
    throw error;
  }
  const groups: GroupInfo[] = [];
  for (const raw of Array.isArray(reply) ? reply : []) {
    const g = record(raw);
    const name = String(g.name ?? "");
    const consumersReply = await room.redis.call(["XINFO", "CONSUMERS", room.keys.events, name]);
    const consumers = (Array.isArray(consumersReply) ? consumersReply : []).map((c) => {
      const r = record(c);
      return { name: String(r.name ?? ""), pending: num(r.pending), idleMs: num(r.idle) };
    });
    groups.push({
      name,
      pending: num(g.pending),
      lag: g.lag === null || g.lag === undefined ? null : num(g.lag),
      lastDeliveredId: String(g["last-delivered-id"] ?? ""),
      consumers,
      deadLetters: num(await room.redis.call(["XLEN", room.keys.deadLetters(name)])),
    });
  }
  return groups;
}

/**
 * A group's dead letters, oldest first.
 * @param count how many at most
 */
export async function listDeadLetters(
  room: Room,
  group: string,
  count = 100,
): Promise<DeadLetter[]> {
  const reply = await room.redis.call([
    "XRANGE",
    room.keys.deadLetters(group),
    "-",
    "+",
    "COUNT",
    count,
  ]);
  const letters: DeadLetter[] = [];
  for (const entry of Array.isArray(reply) ? reply : []) {
    const [deadId, fields] = entry as [string, string[]];
    const field = (name: string) => {
      const i = fields.findIndex((f, k) => k % 2 === 0 && f === name);
      return i === -1 ? "" : String(fields[i + 1]);
    };
    const event = decodeStreamEntry([field("dead_id"), fields]);
    if (event === undefined) continue;
    letters.push({
      deadId,
      event,
      error: field("dead_error"),
      attempts: Number(field("dead_attempts")) || 0,
      consumer: field("dead_consumer"),
    });
  }
  return letters;
}

/**
 * Puts a dead letter back into the room as a new event (every group whose
 * interests match sees it) and removes it from the dead-letter stream.
 *
 * @returns the new room entry id, or `undefined` when no such dead letter
 */
export async function retryDeadLetter(
  room: Room,
  group: string,
  deadId: string,
): Promise<string | undefined> {
  validateStreamId(deadId);
  return decodeDlqRetryReply(
    await room.redis.evalScript(DLQ_RETRY, [...room.keys.core, room.keys.deadLetters(group)], [
      room.config.streamTtlMs,
      room.config.streamMaxLen,
      deadId,
    ]),
  );
}

/**
 * Deletes a dead letter.
 * @returns whether it existed
 */
export async function dropDeadLetter(room: Room, group: string, deadId: string): Promise<boolean> {
  validateStreamId(deadId);
  return await room.redis.call(["XDEL", room.keys.deadLetters(group), deadId]) === 1;
}

function record(raw: unknown): Record<string, RedisReply> {
  const out: Record<string, RedisReply> = {};
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1] as RedisReply;
  return out;
}

function num(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}
