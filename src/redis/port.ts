/**
 * The narrow port every core module uses to talk to Redis.
 *
 * Two adapters implement it: the small RESP transport in `resp.ts` (fast start,
 * for short-lived processes) and the ioredis adapter in `ioredis.ts` (long-lived
 * processes and Redis Cluster). Core modules import only this file.
 *
 * @module
 */

/** An argument of a Redis command. Numbers are sent as their decimal text. */
export type RedisArg = string | number | Uint8Array;

/**
 * A decoded Redis reply. Bulk and simple strings become `string` (UTF-8
 * decoded), integers become `number`, nil becomes `null`, arrays stay arrays.
 */
export type RedisReply = string | number | null | RedisReply[];

/** Options of one command. */
export interface CallOptions {
  /**
   * Deadline for the reply in milliseconds; `0` waits forever (blocking reads).
   * @default the adapter's command timeout
   */
  timeoutMs?: number;
  /**
   * Aborts the command: it rejects with `AbortedError` and, when it was sent
   * already, the connection is dropped (a late reply must not answer the next
   * command). To abort everything on a connection, pass a signal to
   * `connectRedis` instead.
   */
  signal?: AbortSignal;
}

/** A Lua script with its source text, loaded once per connection by SHA. */
export interface LuaScript {
  /** A short name used in error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
}

/** The operations core modules need from a Redis connection. */
export interface RedisPort {
  /** The address this port talks to, for error messages (never includes a password). */
  readonly address: string;
  /** Sends one command and resolves to its reply; a Redis error reply rejects. */
  call(args: readonly RedisArg[], options?: CallOptions): Promise<RedisReply>;
  /**
   * Sends one command whose reply is a bulk string (or nil) and resolves to
   * its bytes, undecoded (binary-safe values such as scratchpad entries);
   * `null` for nil. Any other reply shape rejects; a Redis error reply rejects.
   */
  callBytes(args: readonly RedisArg[], options?: CallOptions): Promise<Uint8Array | null>;
  /**
   * Sends several commands in one round trip. Each slot holds the reply or the
   * `Error` that command produced; a transport failure rejects the whole call.
   */
  pipeline(
    commands: readonly (readonly RedisArg[])[],
    options?: CallOptions,
  ): Promise<(RedisReply | Error)[]>;
  /** Runs a script by SHA, falling back to EVAL when the server does not know it. */
  evalScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisArg[],
    options?: CallOptions,
  ): Promise<RedisReply>;
  /**
   * Sends `WAIT replicas timeoutMs` on the connection that serves `key` (in a
   * cluster: the master of its slot, the connection that ran the script), so
   * it waits for every write that connection made; resolves to how many
   * replicas acknowledged. Optional: a port without it cannot offer the
   * durability option.
   */
  waitForReplicas?(key: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Closes the connection (pending commands reject); safe to call more than once. */
  close(): Promise<void>;
}
