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
import { LOBBY, roomConfig } from "./config.ts";
import { InvalidValueError } from "./errors.ts";
import type { AgentIdentity } from "./identity.ts";
import { Room } from "./room.ts";
import { intReply } from "./replies.ts";
import { PENDING_STEP } from "./scripts.ts";

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
  /** Re-pings sent so far. */
  attempts?: number;
  /** When the next re-ping (or, after the last, the escalation) is due. */
  next_at?: number;
  /** When it was escalated (after the last re-ping), if it was. */
  escalated_at?: number;
}

/** A ledger entry with its state at read time. */
export interface PendingState extends PendingEntry {
  /** `waiting` until due, then `overdue`; `escalated` after the last re-ping. */
  state: "waiting" | "overdue" | "escalated";
}

/** Default re-ping backoff of overdue entries: 30 s, 60 s, 120 s, 240 s. */
export const DEFAULT_REPING_BACKOFF_MS: readonly number[] = [30_000, 60_000, 120_000, 240_000];

/** What one sweep did. */
export interface PendingSweepResult {
  /** Ids of the entries re-pinged in this sweep. */
  repinged: string[];
  /** Ids of the entries escalated in this sweep. */
  escalated: string[];
}

/**
 * Sweeps a sender's ledger once: an overdue entry is re-pinged (a REMINDER
 * to the recipient, into their inbox, `reply_to` the message) when its next
 * step is due, with the backoff between tries, and after the last try
 * escalated once (an ESCALATION to `escalateTo`, or in the lobby when it
 * is empty). Each step is taken by exactly one of the sender's processes
 * (a compare-and-set on the entry), however many sweep at once.
 *
 * @param room the room
 * @param options the sender, the backoff (ms between tries; its length is the number of
 *   re-pings), and who to escalate to (`""`: the lobby)
 * @returns what this sweep did
 */
export async function sweepPending(
  room: Room,
  options: { sender: AgentIdentity; backoffMs?: readonly number[]; escalateTo?: string },
): Promise<PendingSweepResult> {
  const backoff = options.backoffMs ?? DEFAULT_REPING_BACKOFF_MS;
  const key = room.keys.pending(options.sender.agent_id);
  const [flat, now] = await Promise.all([room.redis.call(["HGETALL", key]), room.serverTime()]);
  const done: PendingSweepResult = { repinged: [], escalated: [] };
  if (!Array.isArray(flat)) return done;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const raw = String(flat[i + 1]);
    let entry: PendingEntry;
    try {
      entry = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof entry.id !== "string" || typeof entry.due_at !== "number") continue;
    if (entry.escalated_at !== undefined || now <= entry.due_at) continue;
    const attempts = entry.attempts ?? 0;
    const nextAt = entry.next_at ?? entry.due_at + (backoff[0] ?? 0);
    if (now < nextAt) continue;
    const last = attempts >= backoff.length;
    const next: PendingEntry = last ? { ...entry, escalated_at: now } : {
      ...entry,
      attempts: attempts + 1,
      next_at: now + (backoff[attempts + 1] ?? backoff[backoff.length - 1] ?? 0),
    };
    const won = intReply(
      PENDING_STEP,
      await room.redis.evalScript(PENDING_STEP, [key], [entry.id, raw, JSON.stringify(next)]),
    );
    if (won !== 1) continue;
    if (!last) {
      await room.publish({
        type: "REMINDER",
        agent: options.sender,
        to: entry.to,
        reply_to: entry.id,
        payload: { reminder_of: entry.id, type: entry.type, attempt: attempts + 1 },
        inbox: true,
      });
      done.repinged.push(entry.id);
    } else {
      const target = options.escalateTo ?? "";
      const where = target === "" ? new Room(room.redis, roomConfig(LOBBY)) : room;
      await where.publish({
        type: "ESCALATION",
        agent: options.sender,
        to: target,
        payload: {
          unanswered: entry.id,
          type: entry.type,
          to: entry.to,
          room: `${room.config.repo}:${room.config.branch}`,
          reminders: attempts,
        },
        inbox: target !== "",
      });
      done.escalated.push(entry.id);
    }
  }
  return done;
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
      const state = e.escalated_at !== undefined
        ? "escalated"
        : now > e.due_at
        ? "overdue"
        : "waiting";
      out.push({ ...e, state });
    } catch {
      continue;
    }
  }
  return out.sort((a, b) => a.sent_at - b.sent_at);
}
