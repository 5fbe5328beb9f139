/**
 * Liveness between agents: `ping` (a round trip to a live process of
 * another agent, answered by `answerPings`, which `agentroom mcp` and
 * `agentroom ping --answer` run) and the pending-reply ledger (what a sender
 * still expects an answer to; a reply settles its entry).
 *
 * Pings travel through two short-lived lists per room: `ping:<agent>`
 * holds requests, `pong:<nonce>` the one answer. Nothing is written to the
 * room's feed.
 *
 * @module
 */
import { InvalidValueError } from "./errors.ts";
import type { AgentIdentity } from "./identity.ts";
import type { Room } from "./room.ts";

/** Longest accepted ping timeout. */
export const MAX_PING_TIMEOUT_MS = 60_000;

/** How long an unanswered ping request, or an unread answer, lives. */
const PING_TTL_MS = 60_000;

/** What a ping found. */
export interface PingResult {
  /** The pinged agent id. */
  to: string;
  /** Whether a process of that agent answered in time. */
  answered: boolean;
  /** Round-trip time in ms (as measured by the pinger), when answered. */
  latency_ms?: number;
  /** What answered (a process label, e.g. `mcp pid 1234`), when answered. */
  answered_by?: string;
}

function blockSeconds(ms: number): string {
  return (Math.max(1, ms) / 1000).toFixed(3);
}

/**
 * Pings one agent: pushes a request to its ping list and waits for the
 * answer of any live process of that agent.
 *
 * @param room the room
 * @param options pinger, target agent id, timeout (1 ms to 60 s)
 * @returns the result; `answered: false` when nothing answered in time
 * @throws {InvalidValueError} for a timeout out of range
 */
export async function ping(
  room: Room,
  options: { from: AgentIdentity; to: string; timeoutMs: number },
): Promise<PingResult> {
  const { to, timeoutMs } = options;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_PING_TIMEOUT_MS)) {
    throw new InvalidValueError(
      `Cannot ping: timeout must be between 1 ms and 60s, got ${timeoutMs}`,
    );
  }
  const nonce = crypto.randomUUID();
  const request = JSON.stringify({ nonce, from: options.from.agent_id });
  const started = performance.now();
  await room.redis.pipeline([
    ["RPUSH", room.keys.ping(to), request],
    ["PEXPIRE", room.keys.ping(to), PING_TTL_MS],
  ]);
  const reply = await room.redis.call(
    ["BLPOP", room.keys.pong(nonce), blockSeconds(timeoutMs)],
    { timeoutMs: timeoutMs + 5_000 },
  );
  const latency = performance.now() - started;
  if (!Array.isArray(reply) || typeof reply[1] !== "string") return { to, answered: false };
  let by = "";
  try {
    const parsed = JSON.parse(reply[1]);
    if (typeof parsed?.by === "string") by = parsed.by;
  } catch {
    // an answer without a label still answers
  }
  return { to, answered: true, latency_ms: Math.round(latency * 10) / 10, answered_by: by };
}

/**
 * Answers the pings addressed to `agent` until `signal` aborts: a blocking
 * pop on its ping list, an answer pushed to each request's pong list.
 *
 * @param room the room (use a connection of its own: it blocks)
 * @param options who answers, a label for the answers, the abort signal, and how long each
 *   blocking pop waits (default 25 s)
 * @returns the number of pings answered
 */
export async function answerPings(
  room: Room,
  options: { agent: AgentIdentity; label: string; signal?: AbortSignal; blockMs?: number },
): Promise<number> {
  const key = room.keys.ping(options.agent.agent_id);
  const blockMs = options.blockMs ?? 25_000;
  let answered = 0;
  while (!options.signal?.aborted) {
    const reply = await room.redis.call(["BLPOP", key, blockSeconds(blockMs)], {
      timeoutMs: blockMs + 5_000,
      signal: options.signal,
    });
    if (!Array.isArray(reply) || typeof reply[1] !== "string") continue;
    let nonce = "";
    try {
      const parsed = JSON.parse(reply[1]);
      if (typeof parsed?.nonce === "string") nonce = parsed.nonce;
    } catch {
      continue; // not a ping request: dropped
    }
    if (!/^[0-9a-f-]{36}$/.test(nonce)) continue;
    const pong = room.keys.pong(nonce);
    await room.redis.pipeline([
      ["RPUSH", pong, JSON.stringify({ by: options.label })],
      ["PEXPIRE", pong, PING_TTL_MS],
    ]);
    answered++;
  }
  return answered;
}

/** One entry of the pending-reply ledger. */
export interface PendingEntry {
  /** Id of the message that expects a reply (a room id, or an inbox id when private). */
  id: string;
  /** Who should answer. */
  to: string;
  /** The message's type. */
  type: string;
  /** When it was sent (Unix ms, server clock). */
  sent_at: number;
  /** When a reply is due (Unix ms, server clock). */
  due_at: number;
}

/** A ledger entry with its state at read time. */
export interface PendingState extends PendingEntry {
  /** `waiting` until due, then `overdue`. */
  state: "waiting" | "overdue";
}

/**
 * Records that `sender` expects a reply to message `id` from `to` within `withinMs`.
 *
 * @param room the room
 * @param options sender id, message id, recipient, type, send time (server clock), window
 */
export async function recordPending(
  room: Room,
  options: {
    sender: string;
    id: string;
    to: string;
    type: string;
    sentAt: number;
    withinMs: number;
  },
): Promise<PendingEntry> {
  const entry: PendingEntry = {
    id: options.id,
    to: options.to,
    type: options.type,
    sent_at: options.sentAt,
    due_at: options.sentAt + options.withinMs,
  };
  const key = room.keys.pending(options.sender);
  // the ledger lives as long as an inbox would, and never shorter than a week past the due time
  const ttl = Math.max(room.config.inboxTtlMs, options.withinMs + 7 * 24 * 3_600_000);
  await room.redis.pipeline([
    ["HSET", key, entry.id, JSON.stringify(entry)],
    ["PEXPIRE", key, ttl],
  ]);
  return entry;
}

/**
 * Settles the ledger entry `id` of `sender` (a reply arrived).
 *
 * @param room the room
 * @param options the original sender and the id the reply answers
 * @returns whether an entry was settled
 */
export async function settlePending(
  room: Room,
  options: { sender: string; id: string },
): Promise<boolean> {
  if (options.sender === "" || options.id === "") return false;
  const removed = await room.redis.call(["HDEL", room.keys.pending(options.sender), options.id]);
  return removed === 1 || removed === "1";
}

/**
 * The ledger of `sender`, oldest first, with each entry's state against the
 * server clock. Entries that cannot be decoded are skipped.
 *
 * @param room the room
 * @param sender the agent id
 */
export async function pendingOf(room: Room, sender: string): Promise<PendingState[]> {
  const [flat, now] = await Promise.all([
    room.redis.call(["HGETALL", room.keys.pending(sender)]),
    room.serverTime(),
  ]);
  const out: PendingState[] = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 1; i < flat.length; i += 2) {
    try {
      const e = JSON.parse(String(flat[i])) as PendingEntry;
      if (typeof e.id !== "string" || typeof e.due_at !== "number") continue;
      out.push({ ...e, state: now > e.due_at ? "overdue" : "waiting" });
    } catch {
      continue;
    }
  }
  return out.sort((a, b) => a.sent_at - b.sent_at);
}
