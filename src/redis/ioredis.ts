/**
 * The ioredis adapter of {@linkcode RedisPort}, for long-lived processes and
 * Redis Cluster. It fails fast: no offline queue, no retries, no reconnects.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { Cluster, Redis, ReplyError } from "ioredis";
import type { ClusterOptions, RedisOptions } from "ioredis";
import { AbortedError, RedisCommandError, RedisUnavailableError, TimeoutError } from "../errors.ts";
import type { CallOptions, LuaScript, RedisArg, RedisPort, RedisReply } from "./port.ts";
import { handshake, readyPort } from "./_handshake.ts";
import type { RedisEndpoint } from "./url.ts";
import { clusterSlot } from "../keys.ts";
import {
  bytesReply,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  evalWithFallback,
} from "./resp.ts";

/** Options of {@linkcode connectIoredis}. */
export interface IoredisOptions {
  /**
   * No offline queue, no retries, no reconnects. With `false`, ioredis
   * reconnects after a lost connection and queues commands meanwhile.
   * @default true
   */
  failFast?: boolean;
  /** Deadline for connecting and AUTH/SELECT. @default 1500 */
  connectTimeoutMs?: number;
  /** Default deadline of each command; `0` disables it. @default 2000 */
  commandTimeoutMs?: number;
  /** Extra PEM root certificates trusted for `rediss://`. */
  caCerts?: string[];
  /** Aborts connecting, then closes the connection and rejects pending commands. */
  signal?: AbortSignal;
}

/**
 * Connects with ioredis to one server (standalone).
 * @throws {RedisUnavailableError} when the server cannot be reached in time or rejects AUTH/SELECT
 */
export async function connectIoredis(
  endpoint: RedisEndpoint,
  options: IoredisOptions = {},
): Promise<RedisPort> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const failFast = options.failFast ?? true;
  // `handshake` sends AUTH and SELECT itself and checks them: ioredis only logs
  // a failed SELECT. Without fail-fast, ioredis also gets them for reconnects.
  const { username, password, ...socketOptions } = nodeOptions(endpoint, options.caCerts);
  const client = new Redis({
    ...socketOptions,
    ...(failFast
      ? { retryStrategy: () => null, enableOfflineQueue: false }
      : { username, password, db: endpoint.db, maxRetriesPerRequest: 1 }),
    ...(endpoint.path !== undefined
      ? { path: endpoint.path }
      : { host: endpoint.host, port: endpoint.port }),
    connectTimeout: connectTimeoutMs,
  });
  const port = await open(client, endpoint.display, connectTimeoutMs, options);
  return await readyPort(port, endpoint, connectTimeoutMs);
}

/**
 * Connects with ioredis to a Redis Cluster through its seed `nodes` (which
 * share credentials and TLS settings; db must be 0).
 * @throws {RedisUnavailableError} when no seed node answers in time
 */
export async function connectIoredisCluster(
  nodes: readonly RedisEndpoint[],
  options: IoredisOptions = {},
): Promise<RedisPort> {
  const first = nodes[0];
  if (first === undefined) throw new RedisUnavailableError("(no nodes)", "no cluster nodes given");
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const failFast = options.failFast ?? true;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...nodeOptions(first, options.caCerts), connectTimeout: connectTimeoutMs },
    ...(failFast ? { clusterRetryStrategy: () => null, enableOfflineQueue: false } : {}),
    enableReadyCheck: false,
    lazyConnect: true,
    maxRedirections: 16,
    slotsRefreshTimeout: connectTimeoutMs,
  };
  const client = new Cluster(nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions);
  const address = nodes.map((n) => n.display).join(",");
  return await open(client, address, connectTimeoutMs, options);
}

function nodeOptions(endpoint: RedisEndpoint, caCerts?: string[]): RedisOptions {
  return {
    username: endpoint.username,
    password: endpoint.password,
    tls: endpoint.tls
      ? { servername: isIP(endpoint.host) ? undefined : endpoint.host, ca: caCerts }
      : undefined,
    lazyConnect: true,
    enableReadyCheck: false,
    disableClientInfo: true,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
  };
}

type Client = Redis | Cluster;

async function open(
  client: Client,
  address: string,
  connectTimeoutMs: number,
  options: IoredisOptions,
): Promise<IoredisPort> {
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError(address, signal.reason);
  let lastError: Error | undefined;
  client.on("error", (error: Error) => lastError = error);
  const connected = client.connect();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`connect timed out after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    onAbort = () => reject(new AbortedError(address, signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([connected, deadline]);
  } catch (error) {
    client.disconnect();
    connected.catch(() => {});
    if (error instanceof AbortedError) throw error;
    throw new RedisUnavailableError(address, describe(lastError ?? error, connectTimeoutMs), {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new IoredisPort(client, address, commandTimeoutMs, options.failFast ?? true, signal);
}

function describe(error: unknown, connectTimeoutMs?: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ReplyError) {
    return /^(WRONGPASS|NOAUTH|ERR invalid password)/.test(message)
      ? `authentication failed: ${message}`
      : message;
  }
  if (message.includes("ECONNREFUSED")) return "connection refused";
  if (message.includes("ETIMEDOUT")) {
    return connectTimeoutMs === undefined
      ? "connection timed out"
      : `connect timed out after ${connectTimeoutMs} ms`;
  }
  if (message.includes("ENOTFOUND")) return "host not found";
  return message;
}

/** Wraps an ioredis client; errors are mapped to agentroom errors. */
class IoredisPort implements RedisPort {
  readonly address: string;
  #client: Client;
  #commandTimeoutMs: number;
  #closed: Promise<void> | undefined;
  /** Why the connection is gone, when we dropped it without `close()`. */
  #lost: string | undefined;
  #failFast: boolean;
  /** Set when the connection's signal aborted: what every command then rejects with. */
  #aborted: AbortedError | undefined;
  #unbind = () => {};

  constructor(
    client: Client,
    address: string,
    commandTimeoutMs: number,
    failFast: boolean,
    signal: AbortSignal | undefined,
  ) {
    this.#client = client;
    this.#failFast = failFast;
    this.address = address;
    this.#commandTimeoutMs = commandTimeoutMs;
    if (signal) {
      const onAbort = () => {
        this.#aborted ??= new AbortedError(address, signal.reason);
        this.#client.disconnect();
      };
      if (signal.aborted) onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unbind = () => signal.removeEventListener("abort", onAbort);
    }
  }

  async call(args: readonly RedisArg[], options?: CallOptions): Promise<RedisReply> {
    const [name, ...rest] = args;
    const timeoutMs = options?.timeoutMs ?? this.#commandTimeoutMs;
    const reply = await this.#guard(
      () => this.#client.call(commandText(name), rest.map(toArg)),
      timeoutMs,
      commandText(name).toUpperCase(),
      options?.signal,
    );
    return toReply(reply);
  }

  async callBytes(args: readonly RedisArg[], options?: CallOptions): Promise<Uint8Array | null> {
    const [name, ...rest] = args;
    const timeoutMs = options?.timeoutMs ?? this.#commandTimeoutMs;
    const reply = await this.#guard(
      () => this.#client.callBuffer(commandText(name), rest.map(toArg)),
      timeoutMs,
      commandText(name).toUpperCase(),
      options?.signal,
    );
    const bytes = reply instanceof Uint8Array ? new Uint8Array(reply) : reply;
    return bytesReply(bytes, commandText(name).toUpperCase());
  }

  pipeline(
    commands: readonly (readonly RedisArg[])[],
    options?: CallOptions,
  ): Promise<(RedisReply | Error)[]> {
    return this.#pipeline(
      commands,
      options?.timeoutMs ?? this.#commandTimeoutMs,
      "pipeline",
      options?.signal,
    );
  }

  /** Sends AUTH and SELECT in one round trip and checks their replies. */
  handshake(endpoint: RedisEndpoint, timeoutMs: number): Promise<void> {
    return handshake(endpoint, {
      address: this.address,
      timeoutMs,
      send: (commands, ms) => this.#pipeline(commands, ms, "AUTH/SELECT"),
      isError: (reply): reply is Error => reply instanceof Error,
    });
  }

  async #pipeline(
    commands: readonly (readonly RedisArg[])[],
    timeoutMs: number,
    label = "pipeline",
    signal?: AbortSignal,
  ): Promise<(RedisReply | Error)[]> {
    if (commands.length === 0) return [];
    const results = await this.#guard(
      async () => {
        const pipeline = this.#client.pipeline();
        for (const [name, ...rest] of commands) pipeline.call(commandText(name), rest.map(toArg));
        return await pipeline.exec();
      },
      timeoutMs,
      label,
      signal,
    );
    return (results ?? []).map(([error, reply]) => {
      if (error === null) return toReply(reply);
      if (error instanceof ReplyError) return new RedisCommandError(error.message);
      throw this.#unavailable(error);
    });
  }

  evalScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisArg[],
    options?: CallOptions,
  ): Promise<RedisReply> {
    return evalWithFallback(this, script, [keys.length, ...keys, ...args], options);
  }

  /**
   * `WAIT` on the connection that ran the scripts: the client itself, or in a
   * cluster the connection to the master that serves `key`'s slot (ioredis
   * keeps one connection per node, so that is the one the script went over).
   */
  async waitForReplicas(key: string, replicas: number, timeoutMs: number): Promise<number> {
    const client = this.#client;
    let node: Redis = client as Redis;
    if (client instanceof Cluster) {
      const owner = client.slots[clusterSlot(key)]?.[0];
      const found = owner === undefined
        ? undefined
        : client.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === owner);
      if (!found) {
        throw new RedisUnavailableError(this.address, `no known master serves the slot of ${key}`);
      }
      node = found;
    }
    const reply = await this.#guard(
      () => node.call("WAIT", String(replicas), String(timeoutMs)),
      timeoutMs + this.#commandTimeoutMs,
      "WAIT",
      undefined,
    );
    return Number(reply);
  }

  close(): Promise<void> {
    this.#unbind();
    this.#closed ??= this.#quit();
    return this.#closed;
  }

  async #quit(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, 500));
    try {
      if (this.#client.status === "ready") await Promise.race([this.#client.quit(), grace]);
    } catch {
      // fall through to disconnect
    } finally {
      clearTimeout(timer);
      this.#client.disconnect();
    }
  }

  /** Runs `run` under a deadline and an abort signal; giving up drops the connection. */
  async #guard<T>(
    run: () => Promise<T>,
    timeoutMs: number,
    label: string,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (this.#aborted) throw this.#aborted;
    if (this.#closed) throw new RedisUnavailableError(this.address, "connection is closed");
    if (signal?.aborted) throw new AbortedError(this.address, signal.reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = () => {};
    const work = run();
    const racers: Promise<T>[] = [work];
    // Drop the connection: a late reply must not answer the next command.
    const drop = (why: string) => {
      if (this.#failFast) this.#lost ??= `connection dropped after ${label} ${why}`;
      this.#client.disconnect(!this.#failFast);
    };
    if (timeoutMs > 0 || signal) {
      racers.push(
        new Promise<never>((_, reject) => {
          if (timeoutMs > 0) {
            timer = setTimeout(() => {
              drop("timed out");
              reject(
                new TimeoutError(
                  `Redis at ${this.address} did not answer ${label} within ${timeoutMs} ms`,
                ),
              );
            }, timeoutMs);
          }
          onAbort = () => {
            drop("was aborted");
            reject(new AbortedError(this.address, signal?.reason));
          };
          signal?.addEventListener("abort", onAbort, { once: true });
        }),
      );
    }
    try {
      return await Promise.race(racers);
    } catch (error) {
      work.catch(() => {});
      if (this.#aborted) throw this.#aborted;
      if (error instanceof TimeoutError || error instanceof AbortedError) throw error;
      if (error instanceof ReplyError || /same slot/.test(String(error))) {
        throw new RedisCommandError((error as Error).message);
      }
      throw this.#unavailable(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #unavailable(error: unknown): RedisUnavailableError | AbortedError {
    if (this.#aborted) return this.#aborted;
    const message = error instanceof Error ? error.message : String(error);
    const detail = /Connection is closed|Stream isn't writeable/.test(message)
      ? (this.#closed ? "connection is closed" : this.#lost ?? "connection closed by the server")
      : describe(error);
    return new RedisUnavailableError(this.address, detail, { cause: error });
  }
}

function commandText(name: RedisArg | undefined): string {
  return name instanceof Uint8Array ? new TextDecoder().decode(name) : String(name ?? "");
}

function toArg(arg: RedisArg | undefined): string | number | Buffer {
  if (arg instanceof Uint8Array) return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
  return arg ?? "";
}

function toReply(value: unknown): RedisReply {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value)) return value.map(toReply);
  if (value instanceof Error) throw new RedisCommandError(value.message);
  return String(value);
}
