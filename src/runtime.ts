/**
 * Workers: code that runs once per room event, consuming the room stream
 * through a Redis consumer group.
 *
 * One group per worker type; instances of a type share the group under
 * distinct consumer names, so each event runs on one instance. Delivery is
 * at least once:
 *
 * - the group is created at the stream's tail when missing; a (re)started
 *   consumer first drains its own pending entries, then reads new ones;
 * - entries left pending by a consumer that died are reclaimed with
 *   XAUTOCLAIM once idle for `minIdleMs`, following the cursor until it wraps,
 *   by one sweeper per group at a time (a lock); a live consumer keeps its
 *   in-flight entries from looking idle;
 * - a completion receipt (TTL-bounded) is stored before the ack, so an ack
 *   that fails after a successful execute never runs the worker twice;
 * - events outside the worker's interests are acknowledged without running;
 * - a failing execute publishes `ENGINE_RUNTIME_ERROR` and leaves the entry
 *   pending to be retried; the attempt that reaches `maxAttempts` moves it to
 *   the group's dead-letter stream and acknowledges it. A worker never
 *   consumes the `ENGINE_*` events it produced, so a `*` worker that fails on
 *   everything does not loop.
 *
 * @module
 */
import { decodeStreamEntry, type JsonValue, type RoomEvent } from "./codec.ts";
import { InvalidValueError } from "./errors.ts";
import type { AgentIdentity } from "./identity.ts";
import type { RedisPort, RedisReply } from "./redis/port.ts";
import { decodeRuntimeFailReply } from "./replies.ts";
import type { Room } from "./room.ts";
import { RUNTIME_FAIL } from "./scripts.ts";

/** The event type a runtime publishes when a worker's execute fails. */
export const ENGINE_RUNTIME_ERROR = "ENGINE_RUNTIME_ERROR";

/** Code that runs once per matching room event. */
export interface Worker {
  /** The worker type: its consumer group (unless `RuntimeOptions.group` says otherwise). */
  readonly id: string;
  /** Event types this worker runs on; `*` for all. */
  readonly interests: readonly string[];
  /**
   * Handles one event. Resolving acknowledges it; throwing counts as a failed
   * attempt. `signal` aborts when the runtime shuts down or the attempt times out.
   */
  execute(event: RoomEvent, room: Room, signal: AbortSignal): Promise<void> | void;
}

/** What went wrong, for {@linkcode RuntimeOptions.onError}. */
export type RuntimeOp =
  | "create_group"
  | "read_group"
  | "receipt_lookup"
  | "execute"
  | "receipt_store"
  | "ack"
  | "reclaim"
  | "publish_error"
  | "fail";

/** A failure reported to {@linkcode RuntimeOptions.onError}; delivery is unaffected. */
export interface RuntimeFailure {
  /** The step that failed. */
  op: RuntimeOp;
  /** The consumer group. */
  group: string;
  /** This consumer. */
  consumer: string;
  /** The entry concerned, when there is one. */
  entryId?: string;
  /** The error. */
  error: unknown;
}

/** Options of a {@linkcode Runtime}. */
export interface RuntimeOptions {
  /** Consumer group. @default worker.id */
  group?: string;
  /**
   * This instance's consumer name, distinct per instance. A restarted instance
   * that keeps its name drains its own pending entries first.
   * @default `<worker.id>-<random>`
   */
  consumer?: string;
  /**
   * A second port for the blocking reads (aborting `listen` drops its
   * connection). Without it, reads share the room's port, block for at most
   * a short poll while work is in flight, and `blockMs` bounds how long
   * `listen` takes to return after an abort.
   */
  reader?: RedisPort;
  /** Events executed at once. @default 1 */
  concurrency?: number;
  /** Longest blocking read in ms (bounds how often sweeps run on a quiet room). @default 2000 */
  blockMs?: number;
  /**
   * Idle time after which another consumer may reclaim a pending entry, and
   * the delay before a failed attempt is retried. @default 30000
   */
  minIdleMs?: number;
  /** Attempts before an entry moves to the dead-letter stream (≥ 1). @default 3 */
  maxAttempts?: number;
  /** Lifetime of a completion receipt in ms. @default 86400000 (24 h) */
  receiptTtlMs?: number;
  /** Aborts an attempt's signal after this many ms; `0` never. @default 0 */
  executeTimeoutMs?: number;
  /** Entries per XAUTOCLAIM call. @default 100 */
  sweepCount?: number;
  /** Who the `ENGINE_RUNTIME_ERROR` events are from. @default agent id = worker.id */
  identity?: AgentIdentity;
  /** Called for every failure (never changes delivery). */
  onError?(failure: RuntimeFailure): void;
  /** Called with the ids this consumer reclaimed from idle consumers. */
  onReclaim?(entryIds: string[]): void;
  /** Called when an entry moved to the dead-letter stream. */
  onDeadLetter?(event: RoomEvent, deadId: string, error: unknown): void;
}

/** Runs a worker over a room's stream through its consumer group. */
export class Runtime {
  /** The room consumed. */
  readonly room: Room;
  /** The worker run. */
  readonly worker: Worker;
  /** The consumer group. */
  readonly group: string;
  /** This instance's consumer name. */
  readonly consumer: string;
  readonly #o: Required<
    Omit<
      RuntimeOptions,
      "group" | "consumer" | "reader" | "onError" | "onReclaim" | "onDeadLetter" | "identity"
    >
  >;
  readonly #options: RuntimeOptions;
  readonly #identity: AgentIdentity;
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Entries read and not yet dispatched. */
  readonly #waiting = new Set<string>();
  #signal: AbortSignal = new AbortController().signal;
  #nextSweep = 0;
  #listening = false;

  /**
   * Prepares a runtime; nothing is sent until {@linkcode listen}.
   * @throws {InvalidValueError} for an empty worker id, group or interests, or a bad option
   */
  constructor(room: Room, worker: Worker, options: RuntimeOptions = {}) {
    this.room = room;
    this.worker = worker;
    this.group = options.group ?? worker.id;
    this.consumer = options.consumer ?? `${worker.id}-${crypto.randomUUID().slice(0, 8)}`;
    if (this.group === "" || this.consumer === "") {
      throw new InvalidValueError(
        "A worker needs a non-empty id (consumer group) and consumer name",
      );
    }
    if (worker.interests.length === 0) {
      throw new InvalidValueError(`Worker ${worker.id} has no interests (use "*" for all events)`);
    }
    this.#options = options;
    this.#o = {
      concurrency: options.concurrency ?? 1,
      blockMs: options.blockMs ?? 2000,
      minIdleMs: options.minIdleMs ?? 30_000,
      maxAttempts: options.maxAttempts ?? 3,
      receiptTtlMs: options.receiptTtlMs ?? 86_400_000,
      executeTimeoutMs: options.executeTimeoutMs ?? 0,
      sweepCount: options.sweepCount ?? 100,
    };
    for (const [name, min] of [["concurrency", 1], ["maxAttempts", 1], ["minIdleMs", 1]] as const) {
      const value = this.#o[name];
      if (!Number.isInteger(value) || value < min) {
        throw new InvalidValueError(`Runtime option ${name} must be an integer ≥ ${min}`);
      }
    }
    this.#identity = options.identity ??
      { agent_id: worker.id, handle: worker.id, session_id: "" };
  }

  /** Whether this worker runs on `event` (its interests, and never its own ENGINE_* events). */
  interested(event: RoomEvent): boolean {
    if (event.type.startsWith("ENGINE_") && event.agent_id === this.#identity.agent_id) {
      return false;
    }
    return this.worker.interests.some((t) => t === "*" || t === event.type);
  }

  /**
   * Creates the group at the stream's tail when missing.
   * @returns whether it was created now
   */
  async ensureGroup(): Promise<boolean> {
    try {
      await this.room.redis.call([
        "XGROUP",
        "CREATE",
        this.room.keys.events,
        this.group,
        "$",
        "MKSTREAM",
      ]);
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.includes("BUSYGROUP")) return false;
      throw error;
    }
  }

  /**
   * Consumes until `signal` aborts: creates the group when missing, drains
   * this consumer's pending entries, then reads new ones, sweeping idle
   * pending entries of the group every `minIdleMs / 2`. On abort it stops
   * reading, in-flight executes see their signal abort, and it resolves once
   * they settled (their entries stay pending unless they completed).
   *
   * @throws the group-creation error (anything but BUSYGROUP)
   */
  async listen(signal: AbortSignal = new AbortController().signal): Promise<void> {
    if (this.#listening) throw new InvalidValueError("This runtime is already listening");
    this.#listening = true;
    this.#signal = signal;
    const keepAlive = setInterval(() => this.#touchInFlight(), Math.max(50, this.#o.minIdleMs / 3));
    try {
      await this.ensureGroup();
      await this.#drainOwn();
      while (!signal.aborted) {
        if (Date.now() >= this.#nextSweep) {
          this.#nextSweep = Date.now() + Math.max(50, this.#o.minIdleMs / 2);
          await this.sweep();
        }
        await this.#capacity(1);
        if (signal.aborted) break;
        // Read ahead a little (entries wait in this consumer's pending list, kept alive).
        const entries = await this.#read(Math.min(100, Math.max(16, this.#o.concurrency * 4)));
        for (const entry of entries) this.#waiting.add(String(entry[0]));
        for (const entry of entries) {
          await this.#capacity(1);
          if (signal.aborted) break; // the rest stay pending for this consumer
          this.#waiting.delete(String(entry[0]));
          await this.#dispatch(entry, true);
        }
        this.#waiting.clear();
      }
    } finally {
      clearInterval(keepAlive);
      await Promise.allSettled([...this.#inFlight.values()]);
      this.#listening = false;
    }
  }

  /**
   * Reclaims the group's entries idle for `minIdleMs` (from crashed consumers,
   * and failed attempts due for a retry) and runs them, following the
   * XAUTOCLAIM cursor until it wraps. Only the holder of the group's sweep
   * lock sweeps; another consumer's sweep in progress makes this a no-op.
   *
   * @returns the ids reclaimed
   */
  async sweep(): Promise<string[]> {
    const redis = this.room.redis;
    const claimed: string[] = [];
    try {
      const lock = await redis.call([
        "SET",
        this.room.keys.sweepLock(this.group),
        this.consumer,
        "NX",
        "PX",
        this.#o.minIdleMs,
      ]);
      if (lock !== "OK") return claimed;
      let cursor = "0-0";
      do {
        const reply = await redis.call([
          "XAUTOCLAIM",
          this.room.keys.events,
          this.group,
          this.consumer,
          this.#o.minIdleMs,
          cursor,
          "COUNT",
          this.#o.sweepCount,
        ]) as RedisReply[];
        cursor = String(reply[0]);
        const entries = (reply[1] ?? []) as RedisReply[];
        const ids = entries.map((e) => String((e as RedisReply[])[0]));
        claimed.push(...ids);
        if (ids.length > 0) this.#options.onReclaim?.(ids);
        for (const entry of entries) {
          if (this.#signal.aborted) break;
          await this.#capacity(1);
          await this.#dispatch(entry as RedisReply[]);
        }
      } while (cursor !== "0-0" && !this.#signal.aborted);
      await redis.call([
        "EVAL",
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        this.room.keys.sweepLock(this.group),
        this.consumer,
      ]);
    } catch (error) {
      this.#report("reclaim", error);
    }
    return claimed;
  }

  async #drainOwn(): Promise<void> {
    let cursor = "0-0";
    while (!this.#signal.aborted) {
      let reply: RedisReply;
      try {
        reply = await this.room.redis.call([
          "XREADGROUP",
          "GROUP",
          this.group,
          this.consumer,
          "COUNT",
          100,
          "STREAMS",
          this.room.keys.events,
          cursor,
        ]);
      } catch (error) {
        this.#report("read_group", error);
        return;
      }
      const entries = streamEntries(reply);
      if (entries.length === 0) return;
      for (const entry of entries) {
        await this.#capacity(1);
        await this.#dispatch(entry);
      }
      cursor = String(entries.at(-1)![0]);
    }
  }

  async #read(count: number): Promise<RedisReply[][]> {
    const reader = this.#options.reader;
    // Sharing the room's port, never block long while acks wait behind the read.
    const block = reader === undefined && this.#inFlight.size > 0
      ? 20
      : Math.max(1, Math.min(this.#o.blockMs, this.#nextSweep - Date.now()));
    try {
      const reply = await (reader ?? this.room.redis).call([
        "XREADGROUP",
        "GROUP",
        this.group,
        this.consumer,
        "COUNT",
        count,
        "BLOCK",
        block,
        "STREAMS",
        this.room.keys.events,
        ">",
        // Aborting a sent command drops its connection: only the reader's.
      ], { timeoutMs: block + 5_000, signal: reader === undefined ? undefined : this.#signal });
      return streamEntries(reply);
    } catch (error) {
      if (this.#signal.aborted) return [];
      this.#report("read_group", error);
      if (error instanceof Error && error.message.includes("NOGROUP")) {
        await this.ensureGroup().catch((e) => this.#report("create_group", e));
      }
      await sleep(1000, this.#signal);
      return [];
    }
  }

  /** Waits until at most `concurrency - n` entries are in flight. */
  async #capacity(n: number): Promise<void> {
    while (this.#inFlight.size > this.#o.concurrency - n) {
      await Promise.race(this.#inFlight.values());
    }
  }

  /** Runs an entry in the background; `fresh`: first delivered by a `>` read. */
  async #dispatch(entry: RedisReply[], fresh = false): Promise<void> {
    const id = String(entry[0]);
    if (this.#inFlight.has(id)) return;
    const work = this.#handle(entry, fresh)
      .catch((error) => this.#report("execute", error, id))
      .finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, work);
    await Promise.resolve();
  }

  async #handle(entry: RedisReply[], fresh: boolean): Promise<void> {
    const id = String(entry[0]);
    const event = decodeStreamEntry(entry);
    if (event === undefined || !this.interested(event)) {
      // A deleted entry (nil fields) or one for other workers: acknowledge only.
      await this.#ack(id);
      return;
    }
    const receipt = this.room.keys.receipt(this.group, id);
    // An entry delivered for the first time cannot have run before: no receipt to look up.
    if (!fresh) {
      try {
        if (await this.room.redis.call(["EXISTS", receipt]) === 1) {
          await this.#ack(id);
          return;
        }
      } catch (error) {
        this.#report("receipt_lookup", error, id);
        return;
      }
    }
    const timeout = this.#o.executeTimeoutMs;
    const signal = timeout > 0
      ? AbortSignal.any([this.#signal, AbortSignal.timeout(timeout)])
      : this.#signal;
    try {
      await this.worker.execute(event, this.room, signal);
      if (this.#signal.aborted) return; // interrupted by shutdown: the entry stays pending
    } catch (error) {
      if (this.#signal.aborted) return; // shutting down: the entry stays pending
      this.#report("execute", error, id);
      await this.#fail(event, error);
      return;
    }
    // The receipt, then the ack, in one round trip (a connection runs them in order): when
    // the ack fails, the receipt keeps a later delivery from running the worker again.
    try {
      const [stored, acked] = await this.room.redis.pipeline([
        ["SET", receipt, "1", "PX", this.#o.receiptTtlMs],
        ["XACK", this.room.keys.events, this.group, id],
      ]);
      if (stored instanceof Error) this.#report("receipt_store", stored, id);
      if (acked instanceof Error) this.#report("ack", acked, id);
    } catch (error) {
      this.#report("ack", error, id);
    }
  }

  async #ack(id: string): Promise<void> {
    try {
      await this.room.redis.call(["XACK", this.room.keys.events, this.group, id]);
    } catch (error) {
      this.#report("ack", error, id);
    }
  }

  async #fail(event: RoomEvent, error: unknown): Promise<void> {
    const errorJson = errorToJson(error);
    let outcome;
    try {
      outcome = decodeRuntimeFailReply(
        await this.room.redis.evalScript(
          RUNTIME_FAIL,
          [
            this.room.keys.events,
            this.room.keys.deadLetters(this.group),
            this.room.keys.attempts(this.group),
          ],
          [
            this.group,
            event.id,
            this.#o.maxAttempts,
            Math.max(this.#o.receiptTtlMs, this.#o.minIdleMs * (this.#o.maxAttempts + 1)),
            JSON.stringify(errorJson),
            this.consumer,
          ],
        ),
      );
    } catch (failure) {
      this.#report("fail", failure, event.id);
      return;
    }
    try {
      await this.room.publish({
        type: ENGINE_RUNTIME_ERROR,
        agent: this.#identity,
        payload: {
          error: errorJson,
          event_id: event.id,
          event_type: event.type,
          group: this.group,
          consumer: this.consumer,
          attempt: outcome.attempts,
          max_attempts: this.#o.maxAttempts,
          dead_letter: outcome.outcome === "dead" ? outcome.deadId : null,
        },
      });
    } catch (failure) {
      this.#report("publish_error", failure, event.id);
    }
    if (outcome.outcome === "dead") this.#options.onDeadLetter?.(event, outcome.deadId, error);
  }

  /** Resets the idle time of in-flight entries, so no sweeper reclaims live work. */
  #touchInFlight(): void {
    const ids = [...this.#inFlight.keys(), ...this.#waiting];
    if (ids.length === 0 || this.#signal.aborted) return;
    this.room.redis.call([
      "XCLAIM",
      this.room.keys.events,
      this.group,
      this.consumer,
      0,
      ...ids,
      "JUSTID",
    ]).catch((error) => this.#report("reclaim", error));
  }

  #report(op: RuntimeOp, error: unknown, entryId?: string): void {
    this.#options.onError?.({ op, group: this.group, consumer: this.consumer, entryId, error });
  }
}

/** An error as JSON: its name and message (any value thrown becomes text). */
export function errorToJson(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  let message: string;
  try {
    message = typeof error === "string" ? error : JSON.stringify(error as JsonValue) ?? "";
  } catch {
    message = String(error);
  }
  return { name: "Error", message };
}

function streamEntries(reply: RedisReply): RedisReply[][] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as RedisReply[];
  const entries = stream[1];
  return Array.isArray(entries) ? entries as RedisReply[][] : [];
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
