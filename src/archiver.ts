/**
 * Retention: move the old part of long room streams into cold storage.
 *
 * A sweep finds the room streams of a Redis (SCAN), and for each one at or
 * above a threshold (or about to expire) reads the archivable entries in
 * batches, hands each batch to a persist callback, and only then deletes
 * exactly the ids it persisted (XDEL by id, never a trim): entries appended
 * meanwhile survive, and a crash between persist and delete leaves
 * duplicates in the archive at worst, never a gap (reading back
 * de-duplicates by id). Per-stream errors are collected, not fatal.
 *
 * What the room still needs is never archived: the newest `keepRecent`
 * entries, open and claimed tasks (a task is its stream entry), ASKs that may
 * still be waiting (younger than a day), and entries a consumer group has not
 * yet been delivered or still holds pending.
 *
 * @module
 */
import { decodeStreamEntry, type RoomEvent } from "./codec.ts";
import { DAY_MS } from "./limits.ts";
import type { RedisPort, RedisReply } from "./redis/port.ts";

/** Receives one batch of a stream's entries; must make them durable before resolving. */
export type PersistBatch = (stream: ArchivedStream, events: RoomEvent[]) => Promise<void>;

/** A room stream as the archiver names it. */
export interface ArchivedStream {
  /** The Redis key (`ar:{<repo>:<branch>}:events`). */
  key: string;
  /** The room's hash tag content, `<repo>:<branch>` with key escaping (`%XX`). */
  room: string;
}

/** Options of {@linkcode sweepArchive}. */
export interface SweepOptions {
  /** Streams with at least this many entries are swept. @default 10000 */
  threshold?: number;
  /** The newest entries of each stream that stay in Redis. @default 1000 */
  keepRecent?: number;
  /** Entries per batch (XRANGE COUNT, persist call, XDEL). @default 1000 */
  batchSize?: number;
  /**
   * Streams whose idle TTL ends sooner than this are swept whatever their
   * length and keep no recent entries (they are about to vanish). `0` disables.
   * @default 6 hours
   */
  expiringWithinMs?: number;
  /** Count what would be archived; persist and delete nothing. @default false */
  dryRun?: boolean;
  /** Called after each stream (progress). */
  onStream?(result: StreamSweep): void;
}

/** What a sweep did to one stream. */
export interface StreamSweep {
  /** The stream. */
  stream: ArchivedStream;
  /** Its length before the sweep. */
  length: number;
  /** Entries archived (persisted and deleted; counted only in a dry run). */
  archived: number;
  /** Entries kept because the room still needs them (tasks, asks, groups). */
  kept: number;
  /** Why it was swept or skipped. */
  reason: "threshold" | "expiring" | "below-threshold";
  /** The error that stopped this stream, if any. */
  error?: unknown;
}

/** The result of a sweep. */
export interface ArchiveSweepResult {
  /** One result per room stream found. */
  streams: StreamSweep[];
  /** Errors (a failed SCAN, or per stream), in order. */
  errors: { stream?: string; error: unknown }[];
}

const ROOM_STREAM = /^ar:\{(.*)\}:events$/s;

/**
 * The room streams of a Redis (SCAN with TYPE stream; standalone or one node).
 * @returns the streams, in SCAN order
 */
export async function findRoomStreams(redis: RedisPort): Promise<ArchivedStream[]> {
  const out: ArchivedStream[] = [];
  let cursor = "0";
  do {
    const reply = await redis.call([
      "SCAN",
      cursor,
      "MATCH",
      "ar:{*}:events",
      "COUNT",
      1000,
      "TYPE",
      "stream",
    ]) as [string, string[]];
    cursor = String(reply[0]);
    for (const key of reply[1] ?? []) {
      const match = ROOM_STREAM.exec(key);
      if (match) out.push({ key, room: match[1]! });
    }
  } while (cursor !== "0");
  return out;
}

/**
 * Sweeps every room stream of a Redis into `persist`.
 * @returns per-stream results and collected errors
 */
export async function sweepArchive(
  redis: RedisPort,
  persist: PersistBatch,
  options: SweepOptions = {},
): Promise<ArchiveSweepResult> {
  const result: ArchiveSweepResult = { streams: [], errors: [] };
  let streams: ArchivedStream[];
  try {
    streams = await findRoomStreams(redis);
  } catch (error) {
    result.errors.push({ error });
    return result;
  }
  for (const stream of streams) {
    const swept = await sweepStream(redis, stream, persist, options);
    result.streams.push(swept);
    if (swept.error !== undefined) result.errors.push({ stream: stream.key, error: swept.error });
    options.onStream?.(swept);
  }
  return result;
}

/**
 * Sweeps one room stream (see {@linkcode sweepArchive}).
 * @returns what was done; an error is reported in the result, not thrown
 */
export async function sweepStream(
  redis: RedisPort,
  stream: ArchivedStream,
  persist: PersistBatch,
  options: SweepOptions = {},
): Promise<StreamSweep> {
  const threshold = options.threshold ?? 10_000;
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  const expiringWithin = options.expiringWithinMs ?? 6 * 3_600_000;
  const out: StreamSweep = {
    stream,
    length: 0,
    archived: 0,
    kept: 0,
    reason: "below-threshold",
  };
  try {
    const [length, ttl] = await redis.pipeline([["XLEN", stream.key], ["PTTL", stream.key]]);
    if (length instanceof Error) throw length;
    out.length = Number(length);
    const expiring = expiringWithin > 0 && typeof ttl === "number" && ttl > 0 &&
      ttl < expiringWithin;
    if (expiring) out.reason = "expiring";
    else if (out.length >= threshold) out.reason = "threshold";
    else return out;
    const keepRecent = expiring ? 0 : Math.max(0, options.keepRecent ?? 1000);
    const bound = await archiveBound(redis, stream.key, keepRecent);
    if (bound === undefined) return out;
    const keep = await neededIds(redis, stream.key);
    const askCutoff = (await serverTime(redis)) - DAY_MS;
    let start = "-";
    for (;;) {
      const reply = await redis.call([
        "XRANGE",
        stream.key,
        start,
        bound,
        "COUNT",
        batchSize,
      ]) as RedisReply[];
      if (!Array.isArray(reply) || reply.length === 0) break;
      const events: RoomEvent[] = [];
      for (const entry of reply) {
        const event = decodeStreamEntry(entry);
        if (event === undefined) continue;
        if (keep.has(event.id) || (event.type === "ASK" && event.timestamp > askCutoff)) {
          out.kept++;
          continue;
        }
        events.push(event);
      }
      const last = String((reply.at(-1) as RedisReply[])[0]);
      if (events.length > 0) {
        if (!options.dryRun) {
          await persist(stream, events);
          await redis.call(["XDEL", stream.key, ...events.map((e) => e.id)]);
        }
        out.archived += events.length;
      }
      if (reply.length < batchSize) break;
      start = `(${last}`;
    }
  } catch (error) {
    out.error = error;
  }
  return out;
}

/**
 * The newest id that may be archived: older than the newest `keepRecent`
 * entries and not beyond what every consumer group has been delivered.
 */
async function archiveBound(
  redis: RedisPort,
  key: string,
  keepRecent: number,
): Promise<string | undefined> {
  let bound = "+";
  if (keepRecent > 0) {
    const newest = await redis.call(["XREVRANGE", key, "+", "-", "COUNT", keepRecent]);
    if (!Array.isArray(newest) || newest.length < keepRecent) return undefined;
    const oldestKept = String((newest.at(-1) as RedisReply[])[0]);
    bound = `(${oldestKept}`;
  }
  const groups = await redis.call(["XINFO", "GROUPS", key]) as RedisReply[];
  for (const group of Array.isArray(groups) ? groups : []) {
    const fields = group as RedisReply[];
    const i = fields.indexOf("last-delivered-id");
    const delivered = String(fields[i + 1] ?? "0-0");
    if (compareIds(delivered, bound) < 0) bound = delivered;
  }
  return bound === "0-0" ? undefined : bound;
}

/** Ids the room still needs: open and claimed tasks, entries pending in a group. */
async function neededIds(redis: RedisPort, key: string): Promise<Set<string>> {
  const prefix = key.slice(0, -":events".length);
  const [open, claims] = await redis.pipeline([
    ["ZRANGE", `${prefix}:open-tasks`, 0, -1],
    ["ZRANGE", `${prefix}:claims`, 0, -1],
  ]);
  const ids = new Set<string>();
  for (const list of [open, claims]) {
    if (Array.isArray(list)) { for (const id of list) ids.add(String(id)); }
  }
  const groups = await redis.call(["XINFO", "GROUPS", key]) as RedisReply[];
  for (const group of Array.isArray(groups) ? groups : []) {
    const fields = group as RedisReply[];
    const name = String(fields[fields.indexOf("name") + 1]);
    let start = "-";
    for (;;) {
      const pending = await redis.call(["XPENDING", key, name, start, "+", 1000]) as RedisReply[];
      if (!Array.isArray(pending) || pending.length === 0) break;
      for (const p of pending) ids.add(String((p as RedisReply[])[0]));
      if (pending.length < 1000) break;
      start = `(${String((pending.at(-1) as RedisReply[])[0])}`;
    }
  }
  return ids;
}

async function serverTime(redis: RedisPort): Promise<number> {
  const [s, us] = await redis.call(["TIME"]) as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Orders stream ids (`+` is the largest; an exclusive `(id` sorts just below `id`). */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "+") return 1;
  if (b === "+") return -1;
  const parse = (id: string): [bigint, bigint, number] => {
    const exclusive = id.startsWith("(") ? -1 : 0;
    const [ms, seq = "0"] = id.replace(/^\(/, "").split("-");
    return [BigInt(ms!), BigInt(seq), exclusive];
  };
  const [am, as, ax] = parse(a);
  const [bm, bs, bx] = parse(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return ax - bx;
}
