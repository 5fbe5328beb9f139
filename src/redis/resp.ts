/**
 * A small RESP2 client over `Deno.connect` / `Deno.startTls`, for short-lived
 * processes that must not pay for loading ioredis. It supports AUTH, SELECT,
 * TLS, connect and command deadlines, abort signals, pipelines and scripts by SHA.
 *
 * @module
 */
import {
  AbortedError,
  type AgentroomError,
  RedisCommandError,
  RedisUnavailableError,
  TimeoutError,
} from "../errors.ts";
import type { CallOptions, LuaScript, RedisArg, RedisPort, RedisReply } from "./port.ts";
import { after } from "../timer.ts";
import { handshake, readyPort } from "./_handshake.ts";
import type { RedisEndpoint } from "./url.ts";
import { encodeCommands, RespErrorReply, RespParser, type RespValue } from "./_resp_parser.ts";

/** Options of {@linkcode connectResp}. */
export interface RespOptions {
  /** Deadline for TCP connect, TLS handshake and AUTH/SELECT. @default 1500 */
  connectTimeoutMs?: number;
  /** Default deadline of each command; `0` disables it. @default 2000 */
  commandTimeoutMs?: number;
  /** Extra PEM root certificates trusted for `rediss://`. */
  caCerts?: string[];
  /** Aborts connecting, then closes the connection and rejects pending commands. */
  signal?: AbortSignal;
}

/** Default connect deadline in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1500;
/** Default command deadline in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/**
 * Connects to `endpoint`, authenticates and selects its database.
 * @throws {RedisUnavailableError} when the server cannot be reached in time or rejects AUTH/SELECT
 * @throws {AbortedError} when `options.signal` aborts before the port is ready
 */
export async function connectResp(
  endpoint: RedisEndpoint,
  options: RespOptions = {},
): Promise<RedisPort> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError(endpoint.display, signal.reason);
  const conn = await openSocket(endpoint, connectTimeoutMs, options.caCerts, signal);
  const port = new RespPort(
    conn,
    endpoint.display,
    options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    signal,
  );
  return await readyPort(port, endpoint, connectTimeoutMs);
}

const shaCache = new WeakMap<LuaScript, Promise<string>>();

/** The hex SHA-1 of a script's source, computed once per script object. */
export function scriptSha(script: LuaScript): Promise<string> {
  let sha = shaCache.get(script);
  if (sha === undefined) {
    sha = crypto.subtle.digest("SHA-1", new TextEncoder().encode(script.source)).then((digest) =>
      Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    );
    shaCache.set(script, sha);
  }
  return sha;
}

/** Whether `error` is the server's answer to EVALSHA of an unknown script. */
export function isNoScript(error: unknown): boolean {
  return error instanceof RedisCommandError && error.message.startsWith("NOSCRIPT");
}

/** Short description of a socket error for messages. */
export function describeSocketError(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Deno.errors.ConnectionReset) return "connection reset by the server";
  if (error instanceof Deno.errors.NotFound) return "host not found";
  if (error instanceof Deno.errors.PermissionDenied) return "operation not permitted";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(os error \d+\)$/, "");
}

async function openSocket(
  endpoint: RedisEndpoint,
  timeoutMs: number,
  caCerts: string[] | undefined,
  signal: AbortSignal | undefined,
): Promise<Deno.Conn> {
  const abort = new AbortController();
  let socket: Deno.Conn | undefined;
  let timedOut = false;
  const stop = () => {
    abort.abort();
    closeQuietly(socket);
  };
  const cancelTimer = after(timeoutMs, () => {
    timedOut = true;
    stop();
  });
  signal?.addEventListener("abort", stop, { once: true });
  const cancel = () => {
    cancelTimer();
    signal?.removeEventListener("abort", stop);
  };
  try {
    if (endpoint.path !== undefined) {
      socket = await Deno.connect({ transport: "unix", path: endpoint.path });
      if (abort.signal.aborted) throw new Error("aborted");
      return socket;
    }
    const tcp = await Deno.connect({
      hostname: endpoint.host,
      port: endpoint.port,
      signal: abort.signal,
    });
    socket = tcp;
    if (!endpoint.tls) return tcp;
    const tls = await Deno.startTls(tcp, { hostname: endpoint.host, caCerts });
    socket = tls;
    await tls.handshake();
    return tls;
  } catch (error) {
    closeQuietly(socket);
    if (signal?.aborted) throw new AbortedError(endpoint.display, signal.reason);
    const detail = timedOut
      ? `connect timed out after ${timeoutMs} ms`
      : endpoint.path !== undefined && error instanceof Deno.errors.NotFound
      ? "no socket at that path"
      : `${socket ? "TLS handshake failed: " : ""}${describeSocketError(error)}`;
    throw new RedisUnavailableError(endpoint.display, detail, { cause: error });
  } finally {
    cancel();
  }
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch {
    // already closed
  }
}

interface Pending {
  count: number;
  replies: RespValue[];
  resolve(replies: RespValue[]): void;
  reject(error: Error): void;
  cancel?: () => void;
}

/** One connection; replies arrive in command order and settle the queue head. */
class RespPort implements RedisPort {
  readonly address: string;
  #conn: Deno.Conn;
  #commandTimeoutMs: number;
  #parser = new RespParser();
  #pending: Pending[] = [];
  #sent = 0;
  #outbox: Uint8Array[] = [];
  #failure: AgentroomError | undefined;
  #writing: Promise<void> = Promise.resolve();
  #reading: Promise<void>;
  #unbind = () => {};

  constructor(
    conn: Deno.Conn,
    address: string,
    commandTimeoutMs: number,
    signal: AbortSignal | undefined,
  ) {
    this.#conn = conn;
    this.address = address;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#reading = this.#readLoop();
    if (signal) {
      const onAbort = () => this.#fail(new AbortedError(address, signal.reason));
      if (signal.aborted) onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unbind = () => signal.removeEventListener("abort", onAbort);
    }
  }

  /** Sends AUTH and SELECT in one write and checks their replies. */
  handshake(endpoint: RedisEndpoint, timeoutMs: number): Promise<void> {
    return handshake(endpoint, {
      address: this.address,
      timeoutMs,
      send: (commands, ms) => this.#send(commands, ms, "AUTH/SELECT"),
      isError: (reply): reply is RespErrorReply => reply instanceof RespErrorReply,
    });
  }

  async call(args: readonly RedisArg[], options?: CallOptions): Promise<RedisReply> {
    const timeoutMs = options?.timeoutMs ?? this.#commandTimeoutMs;
    const [reply] = await this.#send([args], timeoutMs, commandName(args), options?.signal);
    if (reply instanceof RespErrorReply) throw new RedisCommandError(reply.message);
    return reply as RedisReply;
  }

  async callBytes(args: readonly RedisArg[], options?: CallOptions): Promise<Uint8Array | null> {
    const timeoutMs = options?.timeoutMs ?? this.#commandTimeoutMs;
    const [reply] = await this.#send([args], timeoutMs, commandName(args), options?.signal, true);
    if (reply instanceof RespErrorReply) throw new RedisCommandError(reply.message);
    return bytesReply(reply, commandName(args));
  }

  async pipeline(
    commands: readonly (readonly RedisArg[])[],
    options?: CallOptions,
  ): Promise<(RedisReply | Error)[]> {
    if (commands.length === 0) return [];
    const timeoutMs = options?.timeoutMs ?? this.#commandTimeoutMs;
    const replies = await this.#send(commands, timeoutMs, "pipeline", options?.signal);
    return replies.map((r) => r instanceof RespErrorReply ? new RedisCommandError(r.message) : r);
  }

  evalScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisArg[],
    options?: CallOptions,
  ): Promise<RedisReply> {
    return evalWithFallback(this, script, [keys.length, ...keys, ...args], options);
  }

  /** `WAIT` on this connection (the one that ran the scripts); `key` needs no routing here. */
  async waitForReplicas(_key: string, replicas: number, timeoutMs: number): Promise<number> {
    const reply = await this.call(["WAIT", replicas, timeoutMs], {
      timeoutMs: timeoutMs + this.#commandTimeoutMs,
    });
    return Number(reply);
  }

  async close(): Promise<void> {
    this.#fail(new RedisUnavailableError(this.address, "connection is closed"));
    await Promise.all([this.#reading, this.#writing]);
  }

  #send(
    commands: readonly (readonly RedisArg[])[],
    timeoutMs: number,
    label: string,
    signal?: AbortSignal,
    raw = false,
  ): Promise<RespValue[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (signal?.aborted) return Promise.reject(new AbortedError(this.address, signal.reason));
    const bytes = encodeCommands(commands);
    // Replies arrive in send order: this command's reply is number #sent.
    if (raw) this.#parser.rawReply(this.#sent);
    this.#sent += commands.length;
    return new Promise((resolve, reject) => {
      const entry: Pending = { count: commands.length, replies: [], resolve, reject };
      // A command that is given up drops the connection: its late reply must
      // not answer the next command.
      const giveUp = (error: AgentroomError, why: string) => {
        entry.cancel?.();
        reject(error);
        this.#fail(new RedisUnavailableError(this.address, `connection dropped after ${why}`));
      };
      const stops: (() => void)[] = [];
      if (timeoutMs > 0) {
        stops.push(after(timeoutMs, () =>
          giveUp(
            new TimeoutError(
              `Redis at ${this.address} did not answer ${label} within ${timeoutMs} ms`,
            ),
            `${label} timed out`,
          )));
      }
      if (signal) {
        const onAbort = () =>
          giveUp(new AbortedError(this.address, signal.reason), `${label} was aborted`);
        signal.addEventListener("abort", onAbort, { once: true });
        stops.push(() => signal.removeEventListener("abort", onAbort));
      }
      if (stops.length > 0) {
        entry.cancel = () => {
          entry.cancel = undefined;
          for (const stop of stops) stop();
        };
      }
      this.#pending.push(entry);
      // Commands sent while a write is in flight go out together in the next one.
      this.#outbox.push(bytes);
      if (this.#outbox.length === 1) this.#writing = this.#writing.then(() => this.#flush());
    });
  }

  #flush(): Promise<void> {
    const chunks = this.#outbox;
    this.#outbox = [];
    if (chunks.length === 1) return this.#write(chunks[0]!);
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return this.#write(bytes);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    try {
      for (let off = 0; off < bytes.length && !this.#failure;) {
        off += await this.#conn.write(bytes.subarray(off));
      }
    } catch (error) {
      this.#fail(
        new RedisUnavailableError(this.address, describeSocketError(error), { cause: error }),
      );
    }
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#fail(new RedisUnavailableError(this.address, "connection closed by the server"));
          return;
        }
        for (const reply of this.#parser.feed(buf.subarray(0, n))) this.#dispatch(reply);
      }
    } catch (error) {
      this.#fail(
        new RedisUnavailableError(this.address, describeSocketError(error), { cause: error }),
      );
    }
  }

  #dispatch(reply: RespValue): void {
    const head = this.#pending[0];
    if (head === undefined) {
      this.#fail(new RedisUnavailableError(this.address, "unexpected reply from the server"));
      return;
    }
    head.replies.push(reply);
    if (head.replies.length < head.count) return;
    this.#pending.shift();
    head.cancel?.();
    head.resolve(head.replies);
  }

  /** Poisons the connection: rejects every pending command and closes the socket. */
  #fail(error: AgentroomError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#unbind();
    const pending = this.#pending;
    this.#pending = [];
    for (const entry of pending) {
      entry.cancel?.();
      entry.reject(error);
    }
    closeQuietly(this.#conn);
  }
}

/**
 * The bytes of a bulk reply read in raw mode (or `null` for nil); anything
 * else is an error naming the command. Shared by both adapters.
 */
export function bytesReply(reply: unknown, command: string): Uint8Array | null {
  if (reply === null) return null;
  if (reply instanceof Uint8Array) return reply;
  throw new RedisCommandError(`${command} did not answer with a bulk string`);
}

function commandName(args: readonly RedisArg[]): string {
  const first = args[0];
  return typeof first === "string" ? first.toUpperCase() : "command";
}

/**
 * Runs a script by SHA and, when the server answers NOSCRIPT, once more with
 * its source (which also loads it for the next call). Shared by both adapters.
 *
 * @param port the port whose `call` sends the command
 * @param script the script
 * @param tail `numkeys`, the keys, then the arguments
 * @param options deadline and abort signal of each command
 * @returns the script's reply
 */
export async function evalWithFallback(
  port: Pick<RedisPort, "call">,
  script: LuaScript,
  tail: readonly RedisArg[],
  options?: CallOptions,
): Promise<RedisReply> {
  try {
    return await port.call(["EVALSHA", await scriptSha(script), ...tail], options);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return await port.call(["EVAL", script.source, ...tail], options);
  }
}
