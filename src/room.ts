/**
 * The room: an append-only event stream per repository and branch, plus a
 * small scratchpad. Every method takes values and returns values.
 *
 * @module
 */
import type { RoomConfig } from "./config.ts";
import {
  decodeStreamEntries,
  decodeStreamEntry,
  encodeEventFields,
  type EventDraft,
  fieldValue,
} from "./codec.ts";
import type { JsonValue, RoomEvent } from "./codec.ts";
import { InvalidValueError, PayloadTooLargeError } from "./errors.ts";
import type { AgentIdentity } from "./identity.ts";
import { type RoomKeys, roomKeys } from "./keys.ts";
import type { RedisPort, RedisReply } from "./redis/port.ts";
import { PUBLISH } from "./scripts.ts";
import { decodePublishReply } from "./replies.ts";

/** What a caller supplies to publish an event. */
export interface PublishInput {
  /** Event type: 1–64 characters, no whitespace or control characters. */
  type: string;
  /** Who writes it. */
  agent: AgentIdentity;
  /** Any JSON value; `null` for none. */
  payload?: JsonValue;
  /** Destination agent id or room key. */
  to?: string;
  /** Id of the event this one answers. */
  reply_to?: string;
  /**
   * Also copy the event to the durable inbox of `to` (an agent id), in the
   * same atomic step. Ignored when `to` is empty or a room key (contains `:`).
   */
  inbox?: boolean;
  /**
   * With `inbox`: keep the copy in the mailbox of `to` (a handle or exact
   * agent id with no live agent) instead of an inbox; it moves into the inbox
   * of the first agent that writes presence under that handle or id. The
   * mailbox lives as long as the room and is capped (`mailboxMaxLen`).
   */
  mailbox?: boolean;
}

/** Largest scratchpad entry in bytes (4 MiB): large diffs and logs travel by reference. */
export const MAX_SCRATCHPAD_BYTES = 4 * 1024 * 1024;

/** Longest scratchpad entry name. */
export const MAX_SCRATCHPAD_NAME = 200;

/**
 * Checks a scratchpad entry name: 1–200 characters, no whitespace or control
 * characters (e.g. `diff:123`, `logs/build-42`).
 *
 * @param name candidate name
 * @returns the name
 * @throws {InvalidValueError} otherwise
 */
export function validateScratchpadName(name: string): string {
  if (name === "") throw new InvalidValueError("Scratchpad key is empty");
  if (Array.from(name).length > MAX_SCRATCHPAD_NAME) {
    throw new InvalidValueError(
      `Scratchpad key is longer than ${MAX_SCRATCHPAD_NAME} characters`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(name)) {
    throw new InvalidValueError(
      `Scratchpad key ${JSON.stringify(name)} has whitespace or control characters`,
    );
  }
  return name;
}

/** Longest accepted event type. */
export const MAX_TYPE_LENGTH = 64;
const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/**
 * Checks an event type.
 *
 * @param type candidate type
 * @returns the type
 * @throws {InvalidValueError} when empty, too long, or containing whitespace or control characters
 */
export function validateEventType(type: string): string {
  if (type.trim() === "") throw new InvalidValueError("Cannot publish event: type is empty");
  if (Array.from(type).length > MAX_TYPE_LENGTH) {
    throw new InvalidValueError(
      `Cannot publish event: type is longer than ${MAX_TYPE_LENGTH} characters`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(type)) {
    throw new InvalidValueError(
      `Cannot publish event: type ${JSON.stringify(type)} has whitespace or control characters`,
    );
  }
  return type;
}

/**
 * Checks a stream id such as `1763700000000-0` (or `1763700000000`).
 *
 * @param id candidate id
 * @returns the id
 * @throws {InvalidValueError} when it is not a stream id
 */
export function validateStreamId(id: string): string {
  if (!STREAM_ID.test(id)) {
    throw new InvalidValueError(
      `Invalid event id ${JSON.stringify(id)}: expected a stream id like 1763700000000-0`,
    );
  }
  return id;
}

/** A room bound to a Redis port. */
export class Room {
  /** The room's configuration. */
  readonly config: RoomConfig;
  /** The room's keys. */
  readonly keys: RoomKeys;
  /** The port this room talks through. */
  readonly redis: RedisPort;

  /**
   * Binds a room configuration to a Redis port. Opening is free: nothing is
   * sent until a method is called.
   *
   * @param redis the port
   * @param config the room (see `roomConfig()`)
   */
  constructor(redis: RedisPort, config: RoomConfig) {
    this.redis = redis;
    this.config = config;
    this.keys = roomKeys(config);
  }

  /**
   * Publishes an event. The id and timestamp come from the Redis server; the
   * stream's idle TTL is re-armed in the same script. A rejected event writes
   * nothing.
   *
   * @param input the event
   * @returns the stored event
   * @throws {InvalidValueError} for a bad type
   * @throws {PayloadTooLargeError} when the payload's JSON exceeds the cap
   */
  async publish(input: PublishInput): Promise<RoomEvent> {
    const event: EventDraft = {
      type: validateEventType(input.type),
      agent_id: input.agent.agent_id,
      agent_handle: input.agent.handle,
      session_id: input.agent.session_id,
      to: input.to ?? "",
      reply_to: input.reply_to ?? "",
      payload: input.payload ?? null,
    };
    if (event.reply_to !== "") validateStreamId(event.reply_to);
    const fields = encodeEventFields(event); // no timestamp: the script adds the server's
    const size = new TextEncoder().encode(fieldValue(fields, "payload")).length;
    const cap = this.config.maxPayloadBytes;
    if (cap > 0 && size > cap) throw new PayloadTooLargeError(size, cap);
    const recipient = input.inbox && event.to !== "" && !event.to.includes(":") ? event.to : "";
    const kept = recipient !== "" && input.mailbox === true;
    const keys = recipient === ""
      ? this.keys.core
      : kept
      ? [...this.keys.core, this.keys.mailbox(recipient), this.keys.mailboxIndex]
      : [...this.keys.core, this.keys.inbox(recipient), this.keys.inboxRecipients];
    const { id, timestamp } = decodePublishReply(
      await this.redis.evalScript(PUBLISH, keys, [
        this.config.streamTtlMs,
        this.config.streamMaxLen,
        recipient,
        kept ? this.config.mailboxMaxLen : this.config.inboxMaxLen,
        kept ? this.config.streamTtlMs : this.config.inboxTtlMs,
        ...fields,
      ]),
    );
    return { id, ...event, timestamp };
  }

  /**
   * The newest `count` events, oldest first.
   * @param count how many (at least 1)
   */
  async recent(count: number): Promise<RoomEvent[]> {
    const reply = await this.redis.call(["XREVRANGE", this.keys.events, "+", "-", "COUNT", count]);
    return decodeStreamEntries(reply).reverse();
  }

  /**
   * Up to `count` events strictly after `afterId`, earliest first.
   * @param afterId a stream id (`0-0` for the beginning)
   * @param count how many at most
   */
  async since(afterId: string, count: number): Promise<RoomEvent[]> {
    validateStreamId(afterId);
    const reply = await this.redis.call([
      "XRANGE",
      this.keys.events,
      `(${afterId}`,
      "+",
      "COUNT",
      count,
    ]);
    return decodeStreamEntries(reply);
  }

  /**
   * The newest `count` events strictly after `afterId`, oldest first.
   * @param afterId a stream id
   * @param count how many at most
   */
  async recentSince(afterId: string, count: number): Promise<RoomEvent[]> {
    validateStreamId(afterId);
    const reply = await this.redis.call([
      "XREVRANGE",
      this.keys.events,
      "+",
      `(${afterId}`,
      "COUNT",
      count,
    ]);
    return decodeStreamEntries(reply).reverse();
  }

  /**
   * One event by id.
   * @param id a stream id
   * @returns the event, or `undefined` when absent (never written, or trimmed)
   */
  async eventById(id: string): Promise<RoomEvent | undefined> {
    validateStreamId(id);
    const reply = await this.redis.call(["XRANGE", this.keys.events, id, id]);
    return Array.isArray(reply) && reply.length > 0 ? decodeStreamEntry(reply[0]) : undefined;
  }

  /**
   * Events addressed to `agentId` among the newest `config.directedScan`
   * events, newest first; broadcasts are excluded. The durable inbox is the
   * complete record of directed messages; this is a recent view.
   *
   * @param agentId the recipient
   * @param count how many at most
   */
  async directed(agentId: string, count: number): Promise<RoomEvent[]> {
    if (agentId === "") return [];
    const reply = await this.redis.call([
      "XREVRANGE",
      this.keys.events,
      "+",
      "-",
      "COUNT",
      this.config.directedScan,
    ]);
    return decodeStreamEntries(reply).filter((e) => e.to === agentId).slice(0, count);
  }

  /** The newest event id, or `0-0` when the room is empty. */
  async lastId(): Promise<string> {
    const reply = await this.redis.call(["XREVRANGE", this.keys.events, "+", "-", "COUNT", 1]);
    return decodeStreamEntries(reply)[0]?.id ?? "0-0";
  }

  /**
   * Blocks until events arrive after `afterId` or `blockMs` passes.
   *
   * @param afterId a stream id
   * @param options `blockMs` (0 = forever), `count`, and a `signal` that aborts the read
   *   (the blocked connection is dropped)
   * @returns the new events, earliest first (empty on timeout)
   */
  async waitForEvents(
    afterId: string,
    options: { blockMs: number; count?: number; signal?: AbortSignal },
  ): Promise<RoomEvent[]> {
    validateStreamId(afterId);
    const reply = await this.redis.call([
      "XREAD",
      "COUNT",
      options.count ?? 100,
      "BLOCK",
      options.blockMs,
      "STREAMS",
      this.keys.events,
      afterId,
    ], {
      timeoutMs: options.blockMs === 0 ? 0 : options.blockMs + 5_000,
      signal: options.signal,
    });
    if (!Array.isArray(reply) || reply.length === 0) return [];
    const stream = reply[0] as RedisReply[];
    return decodeStreamEntries(stream[1]);
  }

  /** Redis server time in Unix milliseconds. */
  async serverTime(): Promise<number> {
    const [seconds, micros] = await this.redis.call(["TIME"]) as [string, string];
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * Writes a scratchpad entry.
   * @param name entry name (see {@linkcode validateScratchpadName})
   * @param value text (stored as UTF-8) or bytes, stored as they are
   * @param ttlMs lifetime; 0 keeps it until overwritten or deleted
   * @throws {InvalidValueError} for a bad name or TTL
   * @throws {PayloadTooLargeError} above {@linkcode MAX_SCRATCHPAD_BYTES}; nothing is written
   */
  async writeScratchpad(name: string, value: string | Uint8Array, ttlMs: number): Promise<void> {
    validateScratchpadName(name);
    if (!Number.isInteger(ttlMs) || ttlMs < 0) {
      throw new InvalidValueError(`Scratchpad TTL must be a whole number of ms ≥ 0, got ${ttlMs}`);
    }
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    if (bytes.length > MAX_SCRATCHPAD_BYTES) {
      throw new PayloadTooLargeError(
        bytes.length,
        MAX_SCRATCHPAD_BYTES,
        `Cannot write scratchpad entry ${JSON.stringify(name)}: it`,
      );
    }
    const key = this.keys.scratchpad(name);
    await this.redis.call(ttlMs > 0 ? ["SET", key, bytes, "PX", ttlMs] : ["SET", key, bytes]);
  }

  /**
   * Reads a scratchpad entry as text.
   * @param name entry name
   * @returns the text (UTF-8 decoded), or `undefined` when missing or expired
   */
  async readScratchpad(name: string): Promise<string | undefined> {
    const bytes = await this.readScratchpadBytes(name);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /**
   * Reads a scratchpad entry as the exact bytes written.
   * @param name entry name
   * @returns the bytes, or `undefined` when missing or expired
   */
  async readScratchpadBytes(name: string): Promise<Uint8Array | undefined> {
    validateScratchpadName(name);
    const reply = await this.redis.callBytes(["GET", this.keys.scratchpad(name)]);
    return reply ?? undefined;
  }

  /**
   * Deletes a scratchpad entry.
   * @param name entry name
   * @returns whether it existed
   */
  async deleteScratchpad(name: string): Promise<boolean> {
    validateScratchpadName(name);
    return await this.redis.call(["DEL", this.keys.scratchpad(name)]) === 1;
  }
}
