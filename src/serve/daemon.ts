/**
 * The daemon: the periodic upkeep of a Redis that holds agentroom rooms.
 * One daemon per Redis does the work (a lock key, renewed while it runs); a
 * second one waits for the lock. Each cycle:
 *
 * - archive sweep (see `archiver.ts`) into a persist callback, every
 *   `archiveIntervalMs`;
 * - stall sweep, every `stallIntervalMs`: a consumer-group entry idle for
 *   `stallIdleMs` that was delivered `maxDeliveries` times without being
 *   completed (a poison event that kills its worker rather than failing) is
 *   moved to the group's dead-letter stream, so it stops bouncing between
 *   consumers;
 * - consumers idle for a day with nothing pending are removed (atomically);
 * - lapse notices of the lifecycle work, through {@linkcode DaemonOptions.lapseNotices}.
 *
 * Shutdown: abort the signal; the current step finishes, the lock is released.
 *
 * @module
 */
import {
  type ArchiveSweepResult,
  findRoomStreams,
  type PersistBatch,
  sweepArchive,
} from "../archiver.ts";
import { errorToJson } from "../runtime.ts";
import { escapeKeyPart } from "../keys.ts";
import type { RedisPort, RedisReply } from "../redis/port.ts";
import { decodePruneConsumerReply, decodeRuntimeFailReply } from "../replies.ts";
import { PRUNE_CONSUMER, RUNTIME_FAIL } from "../scripts.ts";

/** The one lock key of the daemon (one per Redis; a single slot in a cluster). */
export const DAEMON_LOCK_KEY = "ar:{daemon}:lock";

/** Options of {@linkcode runDaemon}. */
export interface DaemonOptions {
  /** The port (a long-lived connection). */
  redis: RedisPort;
  /** Where archived batches go (e.g. `fileSink(dir)`); `undefined` skips archiving. */
  persist?: PersistBatch;
  /** Archive sweep threshold (entries). @default 10000 */
  threshold?: number;
  /** Newest entries kept in Redis per stream. @default 1000 */
  keepRecent?: number;
  /** Between archive sweeps, ms. @default 3600000 (1 h) */
  archiveIntervalMs?: number;
  /** Between stall sweeps (and lapse notices), ms. @default 60000 */
  stallIntervalMs?: number;
  /** Idle time after which a pending entry counts as stalled, ms. @default 300000 */
  stallIdleMs?: number;
  /** Deliveries after which a stalled entry is dead-lettered. @default 10 */
  maxDeliveries?: number;
  /** Idle time after which a consumer with nothing pending is removed, ms. @default 86400000 */
  pruneIdleMs?: number;
  /** Lifetime of the daemon lock, ms (renewed every third of it). @default 30000 */
  lockTtlMs?: number;
  /** This daemon's name in the lock. @default random */
  name?: string;
  /**
   * The lifecycle work's lapse-notice sweep (notices to owners whose leases,
   * windows or claims lapsed), run every stall interval. HOOK(lifecycle): the
   * `agentroom daemon` command passes it once the lifecycle branch provides it.
   */
  lapseNotices?: (redis: RedisPort, signal: AbortSignal) => Promise<void>;
  /** Progress and problems, one line each. */
  log?(line: string): void;
}

/** What one stall sweep did. */
export interface StallSweep {
  /** Entries moved to a dead-letter stream. */
  deadLettered: { stream: string; group: string; id: string; deliveries: number }[];
  /** Consumers removed: idle for `pruneIdleMs` with nothing pending. */
  pruned: { stream: string; group: string; consumer: string }[];
}

/**
 * Runs until `signal` aborts: waits for the lock, then sweeps on intervals
 * (first sweeps at once). Resolves after releasing the lock.
 */
export async function runDaemon(options: DaemonOptions, signal: AbortSignal): Promise<void> {
  const redis = options.redis;
  const log = options.log ?? (() => {});
  const name = options.name ?? `daemon-${crypto.randomUUID().slice(0, 8)}`;
  const lockTtl = options.lockTtlMs ?? 30_000;
  let waiting = false;
  while (!signal.aborted) {
    const got = await redis.call(["SET", DAEMON_LOCK_KEY, name, "NX", "PX", lockTtl]);
    if (got === "OK") break;
    if (!waiting) {
      log(`another daemon (${await redis.call(["GET", DAEMON_LOCK_KEY])}) holds the lock; waiting`);
      waiting = true;
    }
    await sleep(lockTtl / 3, signal);
  }
  if (signal.aborted) return;
  log(`${name} holds the lock`);
  let lost = false;
  const renew = setInterval(async () => {
    try {
      const kept = await redis.call([
        "EVAL",
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
        1,
        DAEMON_LOCK_KEY,
        name,
        lockTtl,
      ]);
      if (kept !== 1 && !lost) {
        lost = true;
        log("lost the daemon lock; stopping");
      }
    } catch (error) {
      log(`lock renewal failed: ${(error as Error).message}`);
    }
  }, lockTtl / 3);
  try {
    let nextArchive = 0;
    let nextStall = 0;
    while (!signal.aborted && !lost) {
      const now = Date.now();
      if (options.persist && now >= nextArchive) {
        nextArchive = now + (options.archiveIntervalMs ?? 3_600_000);
        const result = await archiveOnce(options, options.persist);
        const swept = result.streams.filter((s) => s.reason !== "below-threshold");
        const archived = swept.reduce((n, s) => n + s.archived, 0);
        log(
          `archive sweep: ${archived} events from ${swept.length} of ${result.streams.length} streams`,
        );
        for (const e of result.errors) {
          log(
            `archive error${e.stream ? ` on ${e.stream}` : ""}: ${
              (e.error as Error).message ?? e.error
            }`,
          );
        }
      }
      if (now >= nextStall) {
        nextStall = now + (options.stallIntervalMs ?? 60_000);
        try {
          const stalled = await sweepStalled(redis, {
            idleMs: options.stallIdleMs ?? 300_000,
            maxDeliveries: options.maxDeliveries ?? 10,
            pruneIdleMs: options.pruneIdleMs,
          });
          for (const d of stalled.deadLettered) {
            log(
              `dead-lettered ${d.id} of group ${d.group} on ${d.stream} after ${d.deliveries} deliveries`,
            );
          }
          for (const p of stalled.pruned) {
            log(`removed idle consumer ${p.consumer} of group ${p.group} on ${p.stream}`);
          }
        } catch (error) {
          log(`stall sweep failed: ${(error as Error).message}`);
        }
        if (options.lapseNotices) {
          try {
            await options.lapseNotices(redis, signal);
          } catch (error) {
            log(`lapse notices failed: ${(error as Error).message}`);
          }
        }
      }
      await sleep(
        Math.max(10, Math.min(nextStall, options.persist ? nextArchive : Infinity) - Date.now()),
        signal,
      );
    }
  } finally {
    clearInterval(renew);
    await redis.call([
      "EVAL",
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      DAEMON_LOCK_KEY,
      name,
    ]).catch(() => {});
    log(`${name} stopped`);
  }
}

function archiveOnce(options: DaemonOptions, persist: PersistBatch): Promise<ArchiveSweepResult> {
  return sweepArchive(options.redis, persist, {
    threshold: options.threshold,
    keepRecent: options.keepRecent,
  });
}

/**
 * Moves pending entries idle for `idleMs` and delivered at least
 * `maxDeliveries` times to their group's dead-letter stream, on every room
 * stream of the Redis.
 */
export async function sweepStalled(
  redis: RedisPort,
  options: { idleMs: number; maxDeliveries: number; pruneIdleMs?: number },
): Promise<StallSweep> {
  const out: StallSweep = { deadLettered: [], pruned: [] };
  const pruneIdle = options.pruneIdleMs ?? 86_400_000;
  for (const stream of await findRoomStreams(redis)) {
    const prefix = stream.key.slice(0, -":events".length);
    const groups = await redis.call(["XINFO", "GROUPS", stream.key]) as RedisReply[];
    for (const raw of Array.isArray(groups) ? groups : []) {
      const fields = raw as RedisReply[];
      const group = String(fields[fields.indexOf("name") + 1]);
      let start = "-";
      for (;;) {
        const pending = await redis.call([
          "XPENDING",
          stream.key,
          group,
          "IDLE",
          options.idleMs,
          start,
          "+",
          100,
        ]) as RedisReply[][];
        if (!Array.isArray(pending) || pending.length === 0) break;
        for (const [id, consumer, , deliveries] of pending) {
          if (Number(deliveries) < options.maxDeliveries) continue;
          const reply = decodeRuntimeFailReply(
            await redis.evalScript(
              RUNTIME_FAIL,
              [
                stream.key,
                `${prefix}:dead:${escapeKeyPart(group)}`,
                `${prefix}:attempts:${escapeKeyPart(group)}`,
              ],
              [
                group,
                String(id),
                1,
                86_400_000,
                JSON.stringify(errorToJson(
                  new Error(`delivered ${deliveries} times without completing (stalled)`),
                )),
                String(consumer),
              ],
            ),
          );
          if (reply.outcome === "dead") {
            out.deadLettered.push({
              stream: stream.key,
              group,
              id: String(id),
              deliveries: Number(deliveries),
            });
          }
        }
        if (pending.length < 100) break;
        start = `(${String(pending.at(-1)![0])}`;
      }
      // Consumers of stopped instances (default names are random) would pile up forever.
      const consumers = await redis.call(["XINFO", "CONSUMERS", stream.key, group]) as RedisReply[];
      for (const c of Array.isArray(consumers) ? consumers : []) {
        const info = c as RedisReply[];
        const consumer = String(info[info.indexOf("name") + 1]);
        const idle = Number(info[info.indexOf("idle") + 1]);
        const held = Number(info[info.indexOf("pending") + 1]);
        if (held > 0 || !(idle >= pruneIdle)) continue;
        const removed = decodePruneConsumerReply(
          await redis.evalScript(PRUNE_CONSUMER, [stream.key], [group, consumer]),
        );
        if (removed) out.pruned.push({ stream: stream.key, group, consumer });
      }
    }
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
