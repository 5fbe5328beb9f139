/**
 * The outcomes of the lease, window, guard and work scripts, and their
 * decoders: pure functions of a script's reply that name every reply the
 * script documents and throw `UnexpectedReplyError` for any other
 * (see `../replies.ts`). The outcome types are public (re-exported by the
 * modules that return them); the decoders are not exported from `mod.ts`.
 *
 * @module
 */
import { ScriptReply } from "../replies.ts";
import {
  GUARD,
  LEASE_ACQUIRE,
  LEASE_BREAK,
  LEASE_RELEASE,
  LEASE_RENEW,
  WINDOW_ACK,
  WINDOW_ACTIVATE,
  WINDOW_FINISH,
  WINDOW_REQUEST,
  WORK_SET,
} from "../scripts.ts";
import {
  decodeLease,
  decodeWindow,
  type Lease,
  type QuietWindow,
  type ResourceConflict,
  type WindowState,
  type WorkStatus,
} from "./shared.ts";

/** The result of `acquireLease`. */
export type LeaseAcquireResult =
  | { outcome: "acquired"; lease: Lease; auditId: string }
  | { outcome: "conflict"; conflict: ResourceConflict };

/** The result of `renewLease`. */
export type LeaseRenewResult =
  | { outcome: "renewed"; lease: Lease; auditId: string }
  | { outcome: "missing" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "conflict"; conflict: ResourceConflict };

/** The result of `releaseLease`; `missing` (released or lapsed already) is success. */
export type LeaseReleaseResult =
  | { outcome: "released"; lease: Lease; auditId: string }
  | { outcome: "missing" }
  | { outcome: "not_owner"; owner: string };

/**
 * The result of `breakLease`. `absentMs` is how long the owner had been
 * absent (`undefined`: never seen); `changed` means the owner moved on
 * between the read and the script (the caller reads again).
 */
export type LeaseBreakResult =
  | { outcome: "broken"; lease: Lease; auditId: string; absentMs?: number }
  | { outcome: "missing" }
  | { outcome: "own" }
  | { outcome: "present"; owner: string }
  | { outcome: "grace"; owner: string; absentMs: number; graceMs: number };

/** The result of `requestWindow`. */
export type WindowRequestResult =
  | { outcome: "active" | "pending"; window: QuietWindow; auditId: string }
  | { outcome: "conflict"; conflict: ResourceConflict };

/** The result of `ackWindow`. */
export type WindowAckResult =
  | { outcome: "acknowledged"; window: QuietWindow; auditId: string; already: boolean }
  | { outcome: "missing" }
  | { outcome: "expired" }
  | { outcome: "state"; state: WindowState }
  | { outcome: "not_required"; owner: string };

/** The result of `activateWindow`. */
export type WindowActivateResult =
  | { outcome: "activated"; window: QuietWindow; auditId: string }
  | { outcome: "missing" }
  | { outcome: "expired" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "state"; state: WindowState }
  | { outcome: "acks"; outstanding: string[]; checkedAt: number }
  | { outcome: "conflict"; conflict: ResourceConflict };

/** The result of `releaseWindow` and `cancelWindow`. */
export type WindowFinishResult =
  | { outcome: "released" | "cancelled"; window: QuietWindow; auditId: string; already: boolean }
  | { outcome: "missing" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "state"; state: WindowState };

/** The overlapping leases and windows one guard lookup found. */
export interface GuardLookup {
  /** Redis server time of the read (Unix ms). */
  now: number;
  /** Requested resources, normalised and sorted. */
  resources: string[];
  /**
   * Overlapping live leases: the requested resource, the held one, the lease.
   * The lookup may stop at the first lease of another agent (the answer).
   */
  leases: { requested: string; held: string; lease: Lease }[];
  /** Overlapping live windows: the requested resource, the window's, the window. */
  windows: { requested: string; held: string; window: QuietWindow }[];
  /** The named lease when it is live. */
  named?: Lease;
}

/** The result of `setWorkStatus`. */
export interface SetWorkResult {
  /** The stored status (for completed/failed: the final one, no longer current). */
  status: WorkStatus;
  /** The WORK_STATUS event. */
  auditId: string;
  /** The inbox copy for `to`, when there is one. */
  inboxId?: string;
}

/** What a lease or window request met: a free id was taken, try another. */
export type IdTaken = { outcome: "exists" };

/** What `window_request` asks for when a required agent's inbox key was not declared. */
export type WindowRetry = { outcome: "retry"; required: string[] };

const WINDOW_STATES: readonly string[] = ["pending", "active", "released", "cancelled", "expired"];

/**
 * Decodes a conflict reply `{ "lease"|"window", now, requested, held, JSON }`.
 *
 * @param r the reply, whose tag is `lease` or `window`
 * @throws {UnexpectedReplyError} for any other shape
 */
export function decodeConflict(r: ScriptReply): ResourceConflict {
  const tag = r.tag();
  r.items(5, 5);
  const checkedAt = r.int(1);
  const resource = r.text(2);
  const conflictsWith = r.text(3);
  if (tag === "lease") {
    const lease = r.record(4, decodeLease);
    return {
      kind: "lease",
      resource,
      conflictsWith,
      owner: lease.owner,
      leaseId: lease.id,
      expiresAt: lease.expires_at,
      checkedAt,
    };
  }
  if (tag !== "window") throw r.unexpected();
  const window = r.record(4, (json) => decodeWindow(json, checkedAt));
  return {
    kind: "window",
    resource,
    conflictsWith,
    owner: window.owner,
    windowId: window.id,
    state: window.state,
    expiresAt: window.expires_at,
    checkedAt,
  };
}

/** `{ "ok", lease JSON, audit id }` */
function leaseOk(r: ScriptReply): { lease: Lease; auditId: string } {
  r.items(3, 3);
  return { lease: r.record(1, decodeLease), auditId: r.text(2) };
}

/** `{ "ok", window JSON, audit id or "" }`; windows in replies are as stored (no derived state). */
function windowOk(r: ScriptReply): { window: QuietWindow; auditId: string } {
  r.items(3, 3);
  return { window: r.record(1, (json) => decodeWindow(json, 0)), auditId: r.text(2) };
}

function owner(r: ScriptReply): { outcome: "not_owner"; owner: string } {
  r.items(2, 2);
  return { outcome: "not_owner", owner: r.text(1) };
}

function state(r: ScriptReply): { outcome: "state"; state: WindowState } {
  r.items(2, 2);
  const s = r.text(1);
  if (!WINDOW_STATES.includes(s)) throw r.unexpected();
  return { outcome: "state", state: s as WindowState };
}

function bare<T extends string>(r: ScriptReply, outcome: T): { outcome: T } {
  r.items(1, 1);
  return { outcome };
}

/** Decodes the `lease_acquire` reply (see `lua/lease_acquire.lua`). */
export function decodeLeaseAcquireReply(reply: unknown): LeaseAcquireResult | IdTaken {
  const r = new ScriptReply(LEASE_ACQUIRE, reply);
  switch (r.tag()) {
    case "ok":
      return { outcome: "acquired", ...leaseOk(r) };
    case "exists":
      return bare(r, "exists");
    case "lease":
    case "window":
      return { outcome: "conflict", conflict: decodeConflict(r) };
    default:
      throw r.unexpected();
  }
}

/** Decodes the `lease_renew` reply (see `lua/lease_renew.lua`). */
export function decodeLeaseRenewReply(reply: unknown): LeaseRenewResult {
  const r = new ScriptReply(LEASE_RENEW, reply);
  switch (r.tag()) {
    case "ok":
      return { outcome: "renewed", ...leaseOk(r) };
    case "missing":
      return bare(r, "missing");
    case "not_owner":
      return owner(r);
    case "window":
      return { outcome: "conflict", conflict: decodeConflict(r) };
    default:
      throw r.unexpected();
  }
}

/** Decodes the `lease_release` reply (see `lua/lease_release.lua`). */
export function decodeLeaseReleaseReply(reply: unknown): LeaseReleaseResult {
  const r = new ScriptReply(LEASE_RELEASE, reply);
  switch (r.tag()) {
    case "ok":
      return { outcome: "released", ...leaseOk(r) };
    case "missing":
      return bare(r, "missing");
    case "not_owner":
      return owner(r);
    default:
      throw r.unexpected();
  }
}

/** Decodes the `window_request` reply (see `lua/window_request.lua`). */
export function decodeWindowRequestReply(
  reply: unknown,
): WindowRequestResult | IdTaken | WindowRetry {
  const r = new ScriptReply(WINDOW_REQUEST, reply);
  switch (r.tag()) {
    case "ok": {
      const { window, auditId } = windowOk(r);
      return { outcome: window.state === "active" ? "active" : "pending", window, auditId };
    }
    case "window":
      return { outcome: "conflict", conflict: decodeConflict(r) };
    case "retry": {
      r.items(2, 2);
      const required = r.record(1, (json) => JSON.parse(json) as unknown);
      if (!Array.isArray(required) || !required.every((a) => typeof a === "string")) {
        throw r.unexpected();
      }
      return { outcome: "retry", required };
    }
    case "exists":
      return bare(r, "exists");
    default:
      throw r.unexpected();
  }
}

/** Decodes the `window_ack` reply (see `lua/window_ack.lua`). */
export function decodeWindowAckReply(reply: unknown): WindowAckResult {
  const r = new ScriptReply(WINDOW_ACK, reply);
  switch (r.tag()) {
    case "ok": {
      const { window, auditId } = windowOk(r);
      return { outcome: "acknowledged", window, auditId, already: auditId === "" };
    }
    case "state":
      return state(r);
    case "not_required":
      r.items(2, 2);
      return { outcome: "not_required", owner: r.text(1) };
    case "expired":
      return bare(r, "expired");
    case "missing":
      return bare(r, "missing");
    default:
      throw r.unexpected();
  }
}

/** Decodes the `window_activate` reply (see `lua/window_activate.lua`). */
export function decodeWindowActivateReply(reply: unknown): WindowActivateResult {
  const r = new ScriptReply(WINDOW_ACTIVATE, reply);
  switch (r.tag()) {
    case "ok":
      return { outcome: "activated", ...windowOk(r) };
    case "not_owner":
      return owner(r);
    case "state":
      return state(r);
    case "expired":
      return bare(r, "expired");
    case "missing":
      return bare(r, "missing");
    case "acks":
      r.items(3);
      return { outcome: "acks", checkedAt: r.int(1), outstanding: r.rest(2) };
    case "lease":
      return { outcome: "conflict", conflict: decodeConflict(r) };
    default:
      throw r.unexpected();
  }
}

/**
 * Decodes the `window_finish` reply (see `lua/window_finish.lua`).
 *
 * @param reply the reply
 * @param how what was asked: `release` or `cancel`
 */
export function decodeWindowFinishReply(
  reply: unknown,
  how: "release" | "cancel",
): WindowFinishResult {
  const r = new ScriptReply(WINDOW_FINISH, reply);
  switch (r.tag()) {
    case "ok": {
      const { window, auditId } = windowOk(r);
      return {
        outcome: how === "release" ? "released" : "cancelled",
        window,
        auditId,
        already: auditId === "",
      };
    }
    case "not_owner":
      return owner(r);
    case "state":
      return state(r);
    case "missing":
      return bare(r, "missing");
    default:
      throw r.unexpected();
  }
}

/**
 * Decodes the `guard` reply `{ now, { requested, held, lease JSON, … },
 * { requested, held, window JSON, … }, named lease JSON or "" }`.
 *
 * @param reply the reply
 * @param resources the requested resources, normalised and sorted
 */
export function decodeGuardReply(reply: unknown, resources: string[]): GuardLookup {
  const r = new ScriptReply(GUARD, reply);
  r.items(4, 4);
  const now = r.int(0);
  const lookup: GuardLookup = { now, resources, leases: [], windows: [] };
  const leases = r.texts(1);
  const windows = r.texts(2);
  if (leases.length % 3 !== 0 || windows.length % 3 !== 0) throw r.unexpected();
  for (let i = 0; i < leases.length; i += 3) {
    const lease = r.decoded(leases[i + 2]!, decodeLease);
    lookup.leases.push({ requested: leases[i]!, held: leases[i + 1]!, lease });
  }
  for (let i = 0; i < windows.length; i += 3) {
    const window = r.decoded(windows[i + 2]!, (json) => decodeWindow(json, now));
    lookup.windows.push({ requested: windows[i]!, held: windows[i + 1]!, window });
  }
  const named = r.text(3);
  if (named !== "") lookup.named = r.decoded(named, decodeLease);
  return lookup;
}

/** Decodes the `work_set` reply `{ status JSON, audit id, inbox id or "" }`. */
export function decodeWorkSetReply(reply: unknown): SetWorkResult {
  const r = new ScriptReply(WORK_SET, reply);
  r.items(3, 3);
  const result: SetWorkResult = {
    status: r.record(0, (json) => JSON.parse(json) as WorkStatus),
    auditId: r.text(1),
  };
  const inboxId = r.text(2);
  if (inboxId !== "") result.inboxId = inboxId;
  return result;
}

/** Decodes the `lease_break` reply (see `lua/lease_break.lua`). */
export function decodeLeaseBreakReply(
  reply: unknown,
): LeaseBreakResult | { outcome: "changed"; owner: string } {
  const r = new ScriptReply(LEASE_BREAK, reply);
  switch (r.tag()) {
    case "ok": {
      r.items(4, 4);
      const absent = r.int(3);
      return {
        outcome: "broken",
        lease: r.record(1, decodeLease),
        auditId: r.text(2),
        ...(absent >= 0 ? { absentMs: absent } : {}),
      };
    }
    case "missing":
      return bare(r, "missing");
    case "own":
      return bare(r, "own");
    case "changed":
    case "present":
      r.items(2, 2);
      return { outcome: r.tag() as "changed" | "present", owner: r.text(1) };
    case "grace":
      r.items(4, 4);
      return { outcome: "grace", owner: r.text(1), absentMs: r.int(2), graceMs: r.int(3) };
    default:
      throw r.unexpected();
  }
}
