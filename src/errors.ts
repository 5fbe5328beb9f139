/**
 * Errors of agentroom. Every error a caller may catch extends
 * {@linkcode AgentroomError} and carries a stable `code` that says what went
 * wrong in the library (how a program reports it, say as an exit code, is
 * its own business). Contention (a lost claim, a conflicting lease) is
 * returned as a value, never thrown.
 *
 * @module
 */

/** Stable machine-readable error codes. */
export type ErrorCode =
  | "invalid_value"
  | "payload_too_large"
  | "not_found"
  | "redis_unavailable"
  | "redis_error"
  | "timeout"
  | "aborted"
  | "ask_pending"
  | "unexpected_reply"
  | "replication_timeout"
  | "schema_too_new";

/** Base class of every agentroom error. */
export class AgentroomError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /**
   * Creates an error.
   * @param code stable code
   * @param message sentence-case message, no final period
   * @param options standard error options (`cause`)
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentroomError";
    this.code = code;
  }
}

/** A value given to the library is invalid (bad name, bad id, bad duration). */
export class InvalidValueError extends AgentroomError {
  /** Creates the error with a message that says what was wrong. */
  constructor(message: string, options?: ErrorOptions) {
    super("invalid_value", message, options);
    this.name = "InvalidValueError";
  }
}

/** A payload is larger than the room's cap; nothing was written. */
export class PayloadTooLargeError extends AgentroomError {
  /** Size of the rejected payload in bytes. */
  readonly size: number;
  /** The cap in bytes. */
  readonly limit: number;
  /**
   * Creates the error for a payload of `size` bytes against `limit`.
   * @param what what was refused, leading the message
   */
  constructor(size: number, limit: number, what = "Cannot publish event: payload") {
    super("payload_too_large", `${what} is ${size} bytes, max ${limit} bytes`);
    this.name = "PayloadTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/** Something looked up by id does not exist. */
export class NotFoundError extends AgentroomError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super("not_found", message, options);
    this.name = "NotFoundError";
  }
}

/** Redis could not be reached, or the connection broke. */
export class RedisUnavailableError extends AgentroomError {
  /** The address that failed (no password). */
  readonly address: string;
  /** Creates the error for `address`. */
  constructor(address: string, detail: string, options?: ErrorOptions) {
    super("redis_unavailable", `Cannot reach Redis at ${address}: ${detail}`, options);
    this.name = "RedisUnavailableError";
    this.address = address;
  }
}

/** Redis answered a command with an error reply. */
export class RedisCommandError extends AgentroomError {
  /** Creates the error from the server's error text. */
  constructor(message: string, options?: ErrorOptions) {
    super("redis_error", message, options);
    this.name = "RedisCommandError";
  }
}

/** A command or a wait did not finish within its deadline. */
export class TimeoutError extends AgentroomError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super("timeout", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * The caller aborted the work through its `AbortSignal` (a deadline, a
 * shutdown): the connection was closed and pending commands were dropped.
 * The signal's reason is the `cause`.
 */
export class AbortedError extends AgentroomError {
  /** Creates the error for work on `address` aborted with `reason`. */
  constructor(address: string, reason: unknown) {
    const why = reason instanceof Error && reason.message !== "" ? `: ${reason.message}` : "";
    super("aborted", `Aborted the work with Redis at ${address}${why}`, { cause: reason });
    this.name = "AbortedError";
  }
}

/** An agent asked a question while its previous ask is still waiting; nothing was sent. */
export class AskPendingError extends AgentroomError {
  /** The asking agent. */
  readonly agentId: string;
  /** Creates the error for `agentId`. */
  constructor(agentId: string) {
    super(
      "ask_pending",
      `agent ${agentId} already has a pending ask; wait for it to finish or time out`,
    );
    this.name = "AskPendingError";
    this.agentId = agentId;
  }
}

/** Longest excerpt of a reply that {@linkcode UnexpectedReplyError} quotes. */
export const MAX_REPLY_EXCERPT = 200;

/**
 * A Lua script answered with a reply its decoder does not know: the script
 * on the server is not the one this library ships (an older or newer
 * agentroom, or another tool under the same SHA), or a key held data of the
 * wrong shape. Never turned into a plausible outcome.
 */
export class UnexpectedReplyError extends AgentroomError {
  /** The script's name (see `LuaScript.name`). */
  readonly script: string;
  /** The reply as JSON, clipped to {@linkcode MAX_REPLY_EXCERPT} characters. */
  readonly reply: string;
  /** Creates the error for `reply` from `script`. */
  constructor(script: string, reply: unknown, options?: ErrorOptions) {
    const excerpt = excerptOf(reply);
    super("unexpected_reply", `Unexpected reply from the ${script} script: ${excerpt}`, options);
    this.name = "UnexpectedReplyError";
    this.script = script;
    this.reply = excerpt;
  }
}

function excerptOf(reply: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(reply) ?? String(reply);
  } catch {
    text = String(reply);
  }
  const chars = Array.from(text);
  return chars.length <= MAX_REPLY_EXCERPT
    ? text
    : chars.slice(0, MAX_REPLY_EXCERPT - 1).join("") + "…";
}

/**
 * The durability option (`durabilityReplicas`) asked Redis to confirm a change
 * on replicas (`WAIT`), and fewer confirmed within `durabilityTimeoutMs`. The
 * change itself was made on the primary and stays made (`result` holds its
 * answer); what is not known is whether a failover right now would keep it.
 */
export class ReplicationTimeoutError extends AgentroomError {
  /** How many replicas confirmed. */
  readonly confirmed: number;
  /** How many were asked for. */
  readonly wanted: number;
  /** The answer of the change that was made (a claim, a lease, ...). */
  readonly result: unknown;
  /** Creates the error. */
  constructor(
    what: string,
    details: { confirmed: number; wanted: number; timeoutMs: number; result: unknown },
  ) {
    super(
      "replication_timeout",
      `${what} was made on the primary, but only ${details.confirmed} of ${details.wanted} ` +
        `replica(s) confirmed it within ${details.timeoutMs} ms (WAIT); a failover now could lose it`,
    );
    this.name = "ReplicationTimeoutError";
    this.confirmed = details.confirmed;
    this.wanted = details.wanted;
    this.result = details.result;
  }
}
