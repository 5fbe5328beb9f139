/**
 * The dashboard server (`agentroom dashboard`): one page that shows a room
 * live, served by `Deno.serve` from the same executable. Every request needs
 * the access token (query `token` or header `x-agentroom-token`); state
 * changes are POSTs with the token in the header and a JSON body, and the
 * `Host` header must name the address the server is bound to (DNS
 * rebinding). Room content leaves as JSON and the page renders it as text;
 * every response carries a strict Content-Security-Policy.
 *
 * @module
 */
import { decodeStreamEntries, type JsonValue, type RoomEvent } from "../../codec.ts";
import { LOBBY, roomConfig, type RoomCoordinates } from "../../config.ts";
import { AgentroomError, InvalidValueError, NotFoundError } from "../../errors.ts";
import type { AgentIdentity } from "../../identity.ts";
import { heartbeat, roster } from "../../presence.ts";
import type { RedisPort } from "../../redis/port.ts";
import { Room, validateEventType, validateStreamId } from "../../room.ts";
import { resolveTarget } from "../../targets.ts";
import { taskState } from "../../tasks.ts";
import { breakLease } from "../../coordination/leases.ts";
import { roomStatus } from "../../coordination/status.ts";
import { APP_CSS, APP_JS, indexHtml } from "./page.ts";

/** What the dashboard needs. */
export interface DashboardOptions {
  /** Opens a new Redis connection (one per live stream, one shared for requests). */
  connect: () => Promise<RedisPort>;
  /** The room shown when the page names none. */
  room: RoomCoordinates;
  /** The human's identity: everything done from the page is published under it. */
  human: AgentIdentity;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0 = any free port). */
  port?: number;
  /** The access token (default: 32 random hex characters). */
  token?: string;
  /** Where connection problems are reported (one line each). */
  log?: (line: string) => void;
}

/** A running dashboard. */
export interface Dashboard {
  /** The page's address, with the token. */
  url: string;
  /** The access token. */
  token: string;
  /** The bound port. */
  port: number;
  /** Stops serving and closes every connection. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** The Content-Security-Policy of every response. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Addresses that only this machine reaches. */
export const LOOPBACK: readonly string[] = ["127.0.0.1", "localhost", "::1"];

const FEED_PAGE = 500;
const MAX_FEED_PAGE = 2_000;
const STATUS_LIMIT = 1_000;
const BLOCK_MS = 15_000;
const RETRY_MS = 1_000;

/** A random token: 32 lowercase hex characters. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Parses a room name `repo` or `repo/branch` (the branch may contain `/`;
 * `lobby` is the lobby).
 *
 * @param name the room name
 * @param defaultBranch the branch when the name has none
 * @throws {InvalidValueError} for an empty repo or branch
 */
export function parseRoomName(name: string, defaultBranch = "main"): RoomCoordinates {
  const slash = name.indexOf("/");
  const repo = slash === -1 ? name : name.slice(0, slash);
  const branch = slash === -1 ? defaultBranch : name.slice(slash + 1);
  if (repo === "lobby") return LOBBY;
  roomConfig({ repo, branch }); // validates
  return { repo, branch };
}

function roomName(room: RoomCoordinates): string {
  return `${room.repo}/${room.branch}`;
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null || given.length !== token.length) return false;
  let diff = 0;
  for (let i = 0; i < token.length; i++) diff |= given.charCodeAt(i) ^ token.charCodeAt(i);
  return diff === 0;
}

function respond(body: BodyInit | null, status: number, type: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type },
  });
}

function json(value: unknown, status = 200): Response {
  return respond(JSON.stringify(value), status, "application/json; charset=utf-8");
}

function problem(status: number, error: string, extra: Record<string, unknown> = {}): Response {
  return json({ error, ...extra }, status);
}

function isRedisDown(error: unknown): boolean {
  if (error instanceof AgentroomError) return error.code === "redis_unavailable";
  return error instanceof Error &&
    /ECONNREFUSED|Connection refused|connection (closed|reset|lost)|ECONNRESET|EPIPE|Broken pipe|Connection is closed/i
      .test(error.message);
}

/** A connection shared by requests; dropped after a failure and opened again on next use. */
class SharedPort {
  #connect: () => Promise<RedisPort>;
  #port?: Promise<RedisPort>;
  constructor(connect: () => Promise<RedisPort>) {
    this.#connect = connect;
  }
  async use<T>(fn: (port: RedisPort) => Promise<T>): Promise<T> {
    this.#port ??= this.#connect();
    const pending = this.#port;
    try {
      return await fn(await pending);
    } catch (error) {
      // input errors leave the connection alone; anything else may have broken it
      const input = error instanceof InvalidValueError || error instanceof NotFoundError ||
        error instanceof SyntaxError;
      if (!input && this.#port === pending) {
        this.#port = undefined;
        pending.then((p) => p.close()).catch(() => {});
      }
      throw error;
    }
  }
  async close(): Promise<void> {
    const pending = this.#port;
    this.#port = undefined;
    if (pending) await pending.then((p) => p.close()).catch(() => {});
  }
}

/** Whether a room has ever been written (its stream or presence index exists). */
async function roomExists(room: Room): Promise<boolean> {
  const n = await room.redis.call(["EXISTS", room.keys.events, room.keys.presenceIndex]);
  return typeof n === "number" && n > 0;
}

/** Known rooms: every `ar:{repo:branch}:events` key (SCAN; one node of a cluster). */
async function listRooms(port: RedisPort): Promise<string[]> {
  const names = new Set<string>();
  let cursor = "0";
  let rounds = 0;
  do {
    const reply = await port.call(["SCAN", cursor, "MATCH", "ar:{*}:events", "COUNT", 1000]);
    const [next, keys] = reply as [string, string[]];
    cursor = next;
    for (const key of keys) {
      const m = /^ar:\{([^:{}]*):([^:{}]*)\}:events$/.exec(key);
      if (!m) continue;
      try {
        names.add(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`);
      } catch { /* not one of ours */ }
    }
  } while (cursor !== "0" && ++rounds < 1000);
  return [...names].sort();
}

async function snapshot(room: Room, human: AgentIdentity): Promise<Record<string, unknown>> {
  const [status, exists, claimIds, doneCount, doneScan] = await Promise.all([
    roomStatus(room, { limit: STATUS_LIMIT }),
    roomExists(room),
    room.redis.call(["ZRANGE", room.keys.claims, 0, 199]),
    room.redis.call(["HLEN", room.keys.done]),
    room.redis.call(["HSCAN", room.keys.done, "0", "COUNT", 50]),
  ]);
  const claimed = [];
  for (const id of (claimIds as string[]) ?? []) {
    const state = await taskState(room, id).catch(() => undefined);
    if (state?.state === "claimed") {
      claimed.push({ task: state.task, owner: state.owner, ttl_ms: state.ttlMs });
    }
  }
  const flat = (doneScan as [string, string[]])[1] ?? [];
  const done = [];
  for (let i = 0; i < flat.length; i += 2) done.push({ id: flat[i], result: flat[i + 1] });
  return {
    room: roomName(room.config),
    exists,
    human: { agent_id: human.agent_id, handle: human.handle },
    now: status.checked_at,
    presence: status.presence.map((p) => ({
      agent_id: p.identity.agent_id,
      handle: p.identity.handle,
      description: p.description,
      ttl_ms: p.ttl_ms,
    })),
    leases: status.leases,
    lease_count: status.lease_count,
    windows: status.windows,
    window_count: status.window_count,
    work: status.work,
    work_count: status.work_count,
    tasks: { open: status.open_tasks, claimed, done, done_count: doneCount },
  };
}

async function olderEvents(room: Room, before: string, count: number): Promise<RoomEvent[]> {
  const reply = await room.redis.call([
    "XREVRANGE",
    room.keys.events,
    before === "" ? "+" : `(${validateStreamId(before)}`,
    "-",
    "COUNT",
    count,
  ]);
  return decodeStreamEntries(reply);
}

async function thread(room: Room, id: string): Promise<RoomEvent[]> {
  const chain: RoomEvent[] = [];
  let next: string | undefined = validateStreamId(id);
  const seen = new Set<string>();
  while (next && !seen.has(next) && chain.length < 50) {
    seen.add(next);
    const event = await room.eventById(next);
    if (!event) break;
    chain.unshift(event);
    next = event.reply_to || undefined;
  }
  // replies below the chain: scan the newest events once
  const recent = await room.recent(2_000);
  const ids = new Set(chain.map((e) => e.id));
  for (const event of recent) {
    if (event.reply_to && ids.has(event.reply_to) && !ids.has(event.id)) {
      ids.add(event.id);
      chain.push(event);
    }
  }
  return chain.sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : 1));
}

function textOf(value: unknown, what: string, max: number): string {
  if (typeof value !== "string") throw new InvalidValueError(`${what} must be a string`);
  if (value.length > max) throw new InvalidValueError(`${what} is longer than ${max} characters`);
  return value;
}

/**
 * Starts the dashboard.
 *
 * @param options connection, default room, the human, address and token
 * @returns the running dashboard
 */
export function startDashboard(options: DashboardOptions): Dashboard {
  const token = options.token ?? newToken();
  const hostname = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const shared = new SharedPort(options.connect);
  const streams = new Set<AbortController>();
  const stopping = new AbortController();
  const loopback = LOOPBACK.includes(hostname);
  let allowedHosts: string[] = [];

  function roomOf(url: URL): RoomCoordinates | Response {
    const name = url.searchParams.get("room");
    let coords = options.room;
    if (name !== null && name !== "") {
      try {
        coords = parseRoomName(name);
      } catch (error) {
        return problem(400, error instanceof Error ? error.message : String(error));
      }
    }
    return coords;
  }

  async function withRoom<T>(url: URL, fn: (room: Room) => Promise<T>): Promise<T | Response> {
    const coords = roomOf(url);
    if (coords instanceof Response) return coords;
    return await shared.use((port) => fn(new Room(port, roomConfig(coords))));
  }

  async function body(request: Request): Promise<Record<string, unknown>> {
    const type = request.headers.get("content-type") ?? "";
    if (!type.startsWith("application/json")) {
      throw new InvalidValueError("the body must be application/json");
    }
    const text = await request.text();
    if (text.length > 64 * 1024) throw new InvalidValueError("the body is too large");
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new InvalidValueError("the body must be a JSON object");
    }
    return value as Record<string, unknown>;
  }

  function stream(url: URL, request: Request): Response {
    const coords = roomOf(url);
    if (coords instanceof Response) return coords;
    const config = roomConfig(coords);
    const abort = new AbortController();
    streams.add(abort);
    const encoder = new TextEncoder();
    let after = request.headers.get("last-event-id") ?? url.searchParams.get("after") ?? "";
    if (after !== "") {
      try {
        validateStreamId(after);
      } catch {
        after = "";
      }
    }
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = (event: string, data: unknown, id?: string) => {
          if (abort.signal.aborted) return;
          let text = `event: ${event}\n`;
          if (id) text += `id: ${id}\n`;
          text += `data: ${JSON.stringify(data)}\n\n`;
          controller.enqueue(encoder.encode(text));
        };
        (async () => {
          let port: RedisPort | undefined;
          let healthy: boolean | undefined;
          while (!abort.signal.aborted) {
            try {
              port ??= await options.connect();
              const room = new Room(port, config);
              if (healthy !== true) {
                if (after === "") after = await room.lastId();
                send("status", { ok: true });
                send("state", await snapshot(room, options.human));
                healthy = true;
              }
              const events = await room.waitForEvents(after, {
                blockMs: BLOCK_MS,
                count: 500,
                signal: abort.signal,
              });
              if (events.length > 0) {
                after = events[events.length - 1]!.id;
                send("events", events, after);
                send("state", await snapshot(room, options.human));
              } else {
                controller.enqueue(encoder.encode(": keep-alive\n\n"));
              }
            } catch (error) {
              if (abort.signal.aborted) break;
              const message = error instanceof Error ? error.message : String(error);
              if (healthy !== false) {
                log(`dashboard: ${roomName(config)}: ${message}`);
                send("status", { ok: false, error: message });
              }
              healthy = false;
              await port?.close().catch(() => {});
              port = undefined;
              await new Promise((resolve) => {
                const timer = setTimeout(resolve, RETRY_MS);
                abort.signal.addEventListener("abort", () => {
                  clearTimeout(timer);
                  resolve(undefined);
                }, { once: true });
              });
            }
          }
          await port?.close().catch(() => {});
          streams.delete(abort);
          try {
            controller.close();
          } catch { /* already closed */ }
        })();
      },
      cancel: () => {
        abort.abort();
        streams.delete(abort);
      },
    });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "x-accel-buffering": "no",
      },
    });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    // bound to loopback, only loopback names are accepted (a DNS-rebinding page has another Host)
    if (loopback && !allowedHosts.includes(request.headers.get("host") ?? "")) {
      return respond("forbidden: unexpected Host header\n", 403, "text/plain; charset=utf-8");
    }
    const given = request.headers.get("x-agentroom-token") ?? url.searchParams.get("token");
    if (given === null || given === "") {
      return respond(
        "unauthorized: open the URL that `agentroom dashboard` printed (it carries the token)\n",
        401,
        "text/plain; charset=utf-8",
      );
    }
    if (!sameToken(given, token)) {
      return respond("forbidden: wrong token\n", 403, "text/plain; charset=utf-8");
    }
    const path = url.pathname;
    try {
      if (request.method === "GET") {
        if (path === "/") return respond(indexHtml(token), 200, "text/html; charset=utf-8");
        if (path === "/app.js") return respond(APP_JS, 200, "text/javascript; charset=utf-8");
        if (path === "/app.css") return respond(APP_CSS, 200, "text/css; charset=utf-8");
        if (path === "/api/stream") return stream(url, request);
        if (path === "/api/state") {
          const result = await withRoom(url, (room) => snapshot(room, options.human));
          return result instanceof Response ? result : json(result);
        }
        if (path === "/api/events") {
          const before = url.searchParams.get("before") ?? "";
          const count = Math.min(
            MAX_FEED_PAGE,
            Math.max(1, Number(url.searchParams.get("count") ?? FEED_PAGE) || FEED_PAGE),
          );
          const result = await withRoom(url, (room) => olderEvents(room, before, count));
          return result instanceof Response ? result : json(result);
        }
        if (path === "/api/thread") {
          const id = url.searchParams.get("id") ?? "";
          const result = await withRoom(url, (room) => thread(room, id));
          return result instanceof Response ? result : json(result);
        }
        if (path === "/api/rooms") {
          return json({
            default: roomName(options.room),
            rooms: await shared.use(listRooms),
          });
        }
        return problem(404, "not found");
      }
      if (request.method === "POST") {
        // state changes need the token in a header (a cross-site form cannot set one)
        if (request.headers.get("x-agentroom-token") === null) {
          return problem(403, "send the token in the x-agentroom-token header");
        }
        const input = await body(request);
        if (path === "/api/post") {
          const result = await withRoom(url, (room) => postFromPage(room, input));
          return result instanceof Response ? result : json(result);
        }
        if (path === "/api/reply") {
          const result = await withRoom(url, (room) => replyFromPage(room, input));
          return result instanceof Response ? result : json(result);
        }
        if (path === "/api/break") {
          const result = await withRoom(url, (room) => breakFromPage(room, input));
          return result instanceof Response ? result : json(result);
        }
        return problem(404, "not found");
      }
      return problem(405, "method not allowed");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isRedisDown(error)) return problem(503, `Redis unavailable: ${message}`);
      if (error instanceof NotFoundError) return problem(404, message);
      if (error instanceof AgentroomError || error instanceof SyntaxError) {
        return problem(400, message);
      }
      log(`dashboard: ${path}: ${message}`);
      return problem(500, message);
    }
  }

  async function postFromPage(room: Room, input: Record<string, unknown>) {
    const type = validateEventType(textOf(input.type ?? "NOTE", "type", 64));
    const text = textOf(input.text, "text", 16_000);
    if (text.trim() === "") throw new InvalidValueError("the message is empty");
    const rawTo = textOf(input.to ?? "", "to", 300);
    let to = "";
    if (rawTo.trim() !== "") {
      const target = resolveTarget(rawTo, await roster(room));
      if (target.kind === "ambiguous") {
        throw new InvalidValueError(
          `${JSON.stringify(rawTo)} is ambiguous: ${target.candidates.join(", ")}`,
        );
      }
      to = target.to;
    }
    const replyTo = textOf(input.reply_to ?? "", "reply_to", 64);
    const event = await room.publish({
      type,
      agent: options.human,
      payload: text as JsonValue,
      to,
      reply_to: replyTo,
      inbox: true,
    });
    await heartbeat(room, { identity: options.human, description: "human (dashboard)" });
    return { event };
  }

  async function replyFromPage(room: Room, input: Record<string, unknown>) {
    const askId = validateStreamId(textOf(input.ask_id, "ask_id", 64));
    const text = textOf(input.text, "text", 16_000);
    if (text.trim() === "") throw new InvalidValueError("the reply is empty");
    const ask = await room.eventById(askId);
    if (!ask) throw new NotFoundError(`ask ${askId} not found`);
    if (ask.type !== "ASK") throw new InvalidValueError(`event ${askId} is ${ask.type}, not ASK`);
    if (ask.to !== options.human.agent_id && ask.to !== options.human.handle) {
      throw new InvalidValueError(`ask ${askId} is not addressed to ${options.human.handle}`);
    }
    const event = await room.publish({
      type: "REPLY",
      agent: options.human,
      payload: text as JsonValue,
      to: ask.agent_id,
      reply_to: ask.id,
      inbox: true,
    });
    return { event };
  }

  async function breakFromPage(room: Room, input: Record<string, unknown>) {
    const leaseId = textOf(input.lease_id, "lease_id", 64);
    const reason = textOf(input.reason ?? "", "reason", 500);
    if (reason.trim() === "") throw new InvalidValueError("say why the lease is broken");
    const result = await breakLease(room, {
      agent: options.human,
      leaseId,
      reason,
      now: input.now === true,
    });
    return { result };
  }

  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    signal: stopping.signal,
    onListen: () => {},
  }, handle);
  const port = server.addr.port;
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  allowedHosts = [`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
  const url = `http://${shown}:${port}/?token=${token}`;
  return {
    url,
    token,
    port,
    finished: server.finished,
    shutdown: async () => {
      for (const s of streams) s.abort();
      stopping.abort();
      await server.finished.catch(() => {});
      await shared.close();
    },
  };
}
