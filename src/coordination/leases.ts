/**
 * Resource leases: an agent reserves concrete shared things (files and
 * folders, databases, services; see `resources.ts`) before touching them.
 *
 * - Acquiring is all or none, and of several overlapping requests exactly
 *   one wins. A request is refused while any requested resource overlaps a
 *   live lease (the caller's own included: renew that one instead) or a live
 *   quiet window of another agent.
 * - Only the owner renews or releases; releasing a lease that is gone is
 *   fine. A pending quiet window of another agent blocks renewals of the
 *   leases it overlaps, so they drain.
 * - Leases lapse on Redis server time; presence lapsing does not end them.
 * - Every change writes its audit event (`LEASE_ACQUIRED`, `LEASE_RENEWED`,
 *   `LEASE_RELEASED`) in the same script. Contention is a value, never an
 *   exception.
 *
 * @module
 */
import { confirmDurable } from "../durability.ts";
import {
  actorArgs,
  checkDuration,
  checkId,
  checkPurpose,
  coordKeys,
  decodeLease,
  MAX_COORDINATION_TTL_MS,
  newCoordinationId,
  readSnapshot,
} from "./shared.ts";
import type { AgentIdentity } from "../identity.ts";
import { InvalidValueError } from "../errors.ts";
import { normalizeResources } from "./resources.ts";
import type { Room } from "../room.ts";
import { LEASE_ACQUIRE, LEASE_BREAK, LEASE_RELEASE, LEASE_RENEW } from "../scripts.ts";
import {
  decodeLeaseAcquireReply,
  decodeLeaseBreakReply,
  decodeLeaseReleaseReply,
  decodeLeaseRenewReply,
  type LeaseAcquireResult,
  type LeaseBreakResult,
  type LeaseReleaseResult,
  type LeaseRenewResult,
} from "./replies.ts";
import type { Lease } from "./shared.ts";

export type { Lease, ResourceConflict } from "./shared.ts";
export type {
  LeaseAcquireResult,
  LeaseBreakResult,
  LeaseReleaseResult,
  LeaseRenewResult,
} from "./replies.ts";

/** Default lease length: 15 minutes. */
export const DEFAULT_LEASE_TTL_MS = 15 * 60_000;
/** Longest lease: 24 hours. */
export const MAX_LEASE_TTL_MS: number = MAX_COORDINATION_TTL_MS;

/** What {@linkcode acquireLease} needs. */
export interface AcquireLeaseOptions {
  /** The owner. */
  agent: AgentIdentity;
  /** One or more resources (`<kind>:<name>`); normalised, sorted and de-duplicated. */
  resources: readonly string[];
  /** What the lease is for (one line). */
  purpose: string;
  /** Lease length, 1 ms to 24h. @default 15 minutes */
  ttlMs?: number;
}

/**
 * Acquires a lease on every resource or on none.
 *
 * @param room the room
 * @param options owner, resources, purpose, TTL
 * @returns the lease, or the first conflict found
 * @throws {InvalidValueError} for a bad resource, purpose or TTL (nothing is sent)
 */
export async function acquireLease(
  room: Room,
  options: AcquireLeaseOptions,
): Promise<LeaseAcquireResult> {
  const resources = normalizeResources(options.resources);
  const purpose = checkPurpose(options.purpose);
  const ttl = checkDuration("lease ttl", options.ttlMs ?? DEFAULT_LEASE_TTL_MS);
  for (;;) {
    const result = decodeLeaseAcquireReply(
      await room.redis.evalScript(LEASE_ACQUIRE, coordKeys(room), [
        ...actorArgs(room, options.agent),
        newCoordinationId(),
        ttl,
        purpose,
        ...resources,
      ]),
    );
    if (result.outcome === "acquired") {
      return await confirmDurable(room, `lease ${result.lease.id}`, result);
    }
    if (result.outcome !== "exists") return result; // exists: a 128-bit id collision, draw again
  }
}

/**
 * Extends a live lease to now + `ttlMs` (owner only).
 *
 * @param room the room
 * @param options owner, lease id, new TTL (default 15 minutes)
 * @returns the renewed lease, or why not
 * @throws {InvalidValueError} for a malformed id or TTL (nothing is sent)
 */
export async function renewLease(
  room: Room,
  options: { agent: AgentIdentity; leaseId: string; ttlMs?: number },
): Promise<LeaseRenewResult> {
  const id = checkId("lease", options.leaseId);
  const ttl = checkDuration("lease ttl", options.ttlMs ?? DEFAULT_LEASE_TTL_MS);
  const reply = await room.redis.evalScript(LEASE_RENEW, coordKeys(room), [
    ...actorArgs(room, options.agent),
    id,
    ttl,
  ]);
  const renewed = decodeLeaseRenewReply(reply);
  if (renewed.outcome !== "renewed") return renewed;
  return await confirmDurable(room, `renewal of lease ${id}`, renewed);
}

/**
 * Releases a lease (owner only). A lease that is already gone counts as released.
 *
 * @param room the room
 * @param options owner and lease id
 * @returns the outcome
 * @throws {InvalidValueError} for a malformed id (nothing is sent)
 */
export async function releaseLease(
  room: Room,
  options: { agent: AgentIdentity; leaseId: string },
): Promise<LeaseReleaseResult> {
  const id = checkId("lease", options.leaseId);
  const reply = await room.redis.evalScript(LEASE_RELEASE, coordKeys(room), [
    ...actorArgs(room, options.agent),
    id,
  ]);
  const released = decodeLeaseReleaseReply(reply);
  if (released.outcome !== "released") return released;
  return await confirmDurable(room, `release of lease ${id}`, released);
}

/** What {@linkcode breakLease} needs. */
export interface BreakLeaseOptions {
  /** Who breaks it. */
  agent: AgentIdentity;
  /** The lease. */
  leaseId: string;
  /** Why (one line, required: it is audited and sent to the former owner). */
  reason: string;
  /**
   * How long the owner (and every agent of its session) must have been
   * absent. @default the room's presence TTL
   */
  graceMs?: number;
  /** Skip the grace period (still refused while the owner is present; audited). */
  now?: boolean;
}

/**
 * Breaks the lease of an absent owner: succeeds when neither the owner nor
 * any agent of its session has live presence and they have been absent
 * longer than the grace period (or at once with `now`). One atomic script
 * removes the lease, writes `LEASE_BROKEN` addressed to the former owner and
 * copies it into the former owner's inbox; of concurrent breakers exactly
 * one succeeds.
 *
 * @param room the room
 * @param options breaker, lease id, reason, grace period, `now`
 * @returns the outcome
 * @throws {InvalidValueError} for a malformed id, reason or grace period (nothing is sent)
 */
export async function breakLease(
  room: Room,
  options: BreakLeaseOptions,
): Promise<LeaseBreakResult> {
  const id = checkId("lease", options.leaseId);
  const reason = checkPurpose(options.reason);
  const grace = options.graceMs ?? room.config.presenceTtlMs;
  if (!Number.isSafeInteger(grace) || grace < 0) {
    throw new InvalidValueError(`Invalid grace period: ${grace} ms`);
  }
  for (;;) {
    const json = await room.redis.call(["HGET", room.keys.leases, id]);
    if (typeof json !== "string") return { outcome: "missing" };
    const owner = decodeLease(json).owner;
    const result = decodeLeaseBreakReply(
      await room.redis.evalScript(LEASE_BREAK, [
        ...coordKeys(room),
        room.keys.presenceIndex,
        room.keys.presenceEnds,
        room.keys.inbox(owner),
        room.keys.inboxRecipients,
      ], [
        ...actorArgs(room, options.agent),
        id,
        owner,
        grace,
        options.now ? "1" : "0",
        reason,
        room.config.inboxMaxLen,
        room.config.inboxTtlMs,
      ]),
    );
    if (result.outcome === "broken") {
      return await confirmDurable(room, `break of lease ${id}`, result);
    }
    if (result.outcome !== "changed") return result;
  }
}

/**
 * Live leases, soonest expiry first. Reads the lease index, never the stream.
 *
 * @param room the room
 * @param options `limit`: at most this many (default all)
 */
export async function listLeases(room: Room, options: { limit?: number } = {}): Promise<Lease[]> {
  return (await readSnapshot(room, { limit: options.limit ?? 0 })).leases;
}
