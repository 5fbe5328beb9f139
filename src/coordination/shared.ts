/**
 * What the coordination modules share: the record types (leases, windows,
 * conflicts, work statuses) and their decoders, script keys and arguments,
 * ids, limits and the snapshot read. Every coordination module imports from
 * here and nothing here imports them, so imports point one way. The record
 * types are public (re-exported by the modules that return them); the
 * helpers are not exported from `mod.ts`.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";
import type { AgentIdentity } from "../identity.ts";
import { DAY_MS } from "../limits.ts";
import type { Room } from "../room.ts";
import { COORD_SNAPSHOT } from "../scripts.ts";
import { ScriptReply } from "../replies.ts";
import type { JsonValue } from "../codec.ts";

/** Longest lease or window TTL, and longest ack timeout: 24h. */
export const MAX_COORDINATION_TTL_MS: number = DAY_MS;
/** How long an ended or lapsed window stays visible in `listWindows({ all: true })`. */
export const WINDOW_RETENTION_MS: number = DAY_MS;
/** Longest purpose, in characters. */
export const MAX_PURPOSE_LENGTH = 500;

const ID = /^[0-9a-f]{32}$/;

/** A live lease as stored (times are Unix ms on the Redis server clock). */
export interface Lease {
  /** 32 lowercase hex characters. */
  id: string;
  /** Agent id of the holder. */
  owner: string;
  /**
   * The holder's session token, when recorded: every agent of that session
   * (any handle, e.g. a harness's subagents) treats the lease as its own.
   */
  session?: string;
  /** What the holder said it is for. */
  purpose: string;
  /** Normalised, sorted resources. */
  resources: string[];
  /** When it was acquired. */
  created_at: number;
  /** When it lapses unless renewed. */
  expires_at: number;
}

/** Why a request was refused: the requested resource and what it ran into. */
export type ResourceConflict =
  | {
    kind: "lease";
    /** The requested resource. */
    resource: string;
    /** The held resource it overlaps. */
    conflictsWith: string;
    /** The lease's holder. */
    owner: string;
    /** The lease's id. */
    leaseId: string;
    /** When that lease lapses unless renewed (Unix ms). */
    expiresAt: number;
    /** Redis server time of the decision (Unix ms). */
    checkedAt: number;
  }
  | {
    kind: "window";
    /** The requested resource. */
    resource: string;
    /** The window's resource it overlaps. */
    conflictsWith: string;
    /** The window's owner. */
    owner: string;
    /** The window's id. */
    windowId: string;
    /** `pending` or `active`. */
    state: WindowState;
    /** Ack deadline of a pending window, end of an active one (Unix ms). */
    expiresAt: number;
    /** Redis server time of the decision (Unix ms). */
    checkedAt: number;
  };

/** Where a window stands; `expired` is derived (deadline passed without activation, or ended by time). */
export type WindowState = "pending" | "active" | "released" | "cancelled" | "expired";

/** A quiet window (times are Unix ms on the Redis server clock). */
export interface QuietWindow {
  /** 32 lowercase hex characters. */
  id: string;
  /** Agent id of the requester. */
  owner: string;
  /** The requester's session token, when recorded (see {@linkcode Lease.session}). */
  session?: string;
  /** What it is for. */
  purpose: string;
  /** Normalised, sorted resources. */
  resources: string[];
  /** Where it stands. */
  state: WindowState;
  /** Agents that must acknowledge (never the owner). */
  required: string[];
  /** The required agents that were added because they held an overlapping lease. */
  via_lease: string[];
  /** Required agents that acknowledged. */
  acknowledged: string[];
  /** When it was requested. */
  created_at: number;
  /** Last moment to acknowledge and activate a pending window. */
  ack_deadline: number;
  /** End of an active window; the ack deadline while pending; the end time once ended. */
  expires_at: number;
  /** Length of the active phase. */
  ttl_ms: number;
}

/** The work states. */
export const WORK_STATES = [
  "started",
  "waiting",
  "blocked",
  "handoff",
  "completed",
  "failed",
] as const;

/** One of {@linkcode WORK_STATES}. */
export type WorkState = typeof WORK_STATES[number];

/** A work status as stored (times are Unix ms on the Redis server clock). */
export interface WorkStatus {
  /** Always 1. */
  schema_version: 1;
  /** One id per (agent, scope): see {@linkcode workStatusId}. */
  id: string;
  /** Who reports. */
  agent_id: string;
  /** The reporter's handle. */
  agent_handle: string;
  /** The state. */
  state: WorkState;
  /** What part of the work (a task id, a path, a feature). */
  scope: string;
  /** One line on where it stands. */
  summary: string;
  /** Destination agent id, when set. */
  to?: string;
  /** Any JSON data, when set. */
  data?: JsonValue;
  /** When it was reported. */
  updated_at: number;
  /** When it lapses unless replaced. */
  expires_at: number;
}

/** Whether `state` is one of {@linkcode WORK_STATES}. */
export function isWorkState(state: string): state is WorkState {
  return (WORK_STATES as readonly string[]).includes(state);
}

/** The keys every lease, window and guard script takes: core, then coordination. */
export function coordKeys(room: Room): string[] {
  return [...room.keys.core, ...room.keys.coordination];
}

/** The common first five ARGV of the writing scripts. */
export function actorArgs(room: Room, agent: AgentIdentity): (string | number)[] {
  return [
    agent.agent_id,
    agent.handle,
    agent.session_id,
    room.config.streamTtlMs,
    room.config.streamMaxLen,
  ];
}

/** A fresh lease or window id: 32 lowercase hex characters (128 random bits). */
export function newCoordinationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `id` looks like a lease or window id. */
export function isCoordinationId(id: string): boolean {
  return ID.test(id);
}

/** Checks a lease or window id; `what` names it in the message. */
export function checkId(what: string, id: string): string {
  if (!isCoordinationId(id)) {
    throw new InvalidValueError(
      `Invalid ${what} id ${JSON.stringify(id)}: expected 32 lowercase hex characters`,
    );
  }
  return id;
}

/** Checks a duration in ms: a whole number from 1 ms to 24h. */
export function checkDuration(what: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_COORDINATION_TTL_MS) {
    throw new InvalidValueError(`Invalid ${what}: must be between 1 ms and 24h, got ${ms} ms`);
  }
  return ms;
}

/** Checks a purpose: one line, 1–500 characters. */
export function checkPurpose(purpose: string): string {
  const text = purpose.trim();
  if (text === "") throw new InvalidValueError("Invalid purpose: it is empty; say what it is for");
  if (Array.from(text).length > MAX_PURPOSE_LENGTH) {
    throw new InvalidValueError(`Invalid purpose: longer than ${MAX_PURPOSE_LENGTH} characters`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) {
    throw new InvalidValueError("Invalid purpose: it has control characters or line breaks");
  }
  return text;
}

/**
 * Whether a lease or window is the caller's: its owner is the caller, or the
 * caller's session took it under another handle. Nothing a session holds is a
 * conflict for that session.
 *
 * @param record a lease or window
 * @param agentId the caller's agent id
 * @param sessionId the caller's session token, when known
 */
export function heldBySelf(
  record: { owner: string; session?: string },
  agentId: string,
  sessionId?: string,
): boolean {
  return record.owner === agentId ||
    (sessionId !== undefined && sessionId !== "" && record.session === sessionId);
}

/** Decodes a stored lease. */
export function decodeLease(json: string): Lease {
  const l = JSON.parse(json) as Lease;
  return {
    id: l.id,
    owner: l.owner,
    ...(typeof l.session === "string" && l.session !== "" ? { session: l.session } : {}),
    purpose: l.purpose,
    resources: [...(l.resources ?? [])],
    created_at: l.created_at,
    expires_at: l.expires_at,
  };
}

/** Decodes a stored window, deriving `expired` from its deadlines at server time `now`. */
export function decodeWindow(json: string, now: number): QuietWindow {
  const w = JSON.parse(json) as QuietWindow;
  let state: WindowState = w.state;
  if (
    (state === "pending" && w.ack_deadline <= now) || (state === "active" && w.expires_at <= now)
  ) {
    state = "expired";
  }
  return {
    id: w.id,
    owner: w.owner,
    ...(typeof w.session === "string" && w.session !== "" ? { session: w.session } : {}),
    purpose: w.purpose,
    resources: [...(w.resources ?? [])],
    state,
    required: [...(w.required ?? [])],
    via_lease: [...(w.via_lease ?? [])],
    acknowledged: [...(w.acknowledged ?? [])],
    created_at: w.created_at,
    ack_deadline: w.ack_deadline,
    expires_at: w.expires_at,
    ttl_ms: w.ttl_ms,
  };
}

/** One consistent read of live leases, windows and work (see `lua/coord_snapshot.lua`). */
export interface Snapshot {
  /** Redis server time of the read, Unix ms. */
  now: number;
  /** Live leases in total. */
  leaseCount: number;
  /** Live leases, soonest expiry first (at most `limit`). */
  leases: Lease[];
  /** Windows in total (live ones, or every retained one). */
  windowCount: number;
  /** The windows (at most `limit`). */
  windows: QuietWindow[];
  /** Live work statuses in total. */
  workCount: number;
  /** Live work statuses (at most `limit`). */
  work: WorkStatus[];
}

/** Reads a snapshot; `limit` 0 lists everything. */
export async function readSnapshot(
  room: Room,
  options: { limit?: number; windows?: "live" | "all" } = {},
): Promise<Snapshot> {
  const reply = await room.redis.evalScript(
    COORD_SNAPSHOT,
    [...coordKeys(room), room.keys.work, room.keys.workExpiry],
    [options.limit ?? 0, options.windows ?? "live"],
  );
  return decodeSnapshotReply(reply);
}

/** Decodes the `coord_snapshot` reply (see `lua/coord_snapshot.lua`). */
export function decodeSnapshotReply(reply: unknown): Snapshot {
  const r = new ScriptReply(COORD_SNAPSHOT, reply);
  r.items(7, 7);
  const now = r.int(0);
  const records = <T>(i: number, decode: (json: string) => T) =>
    r.texts(i).map((json) => r.decoded(json, decode));
  return {
    now,
    leaseCount: r.int(1),
    leases: records(2, decodeLease),
    windowCount: r.int(3),
    windows: records(4, (json) => decodeWindow(json, now)),
    workCount: r.int(5),
    work: records(6, (json) => JSON.parse(json) as WorkStatus),
  };
}

/** Sorts work statuses in place, most recently updated first. */
export function sortWork(work: WorkStatus[]): WorkStatus[] {
  return work.sort((a, b) => b.updated_at - a.updated_at || (a.id < b.id ? -1 : 1));
}
