/**
 * The guard: a preflight answer to "may I touch these resources now?",
 * read at one instant of Redis server time and writing nothing.
 *
 * Decision table, for the caller C and each requested resource r (sorted):
 *
 * | what overlaps r                                  | answer                      |
 * | ------------------------------------------------ | --------------------------- |
 * | a live lease of another agent                    | unsafe: conflict (lease)    |
 * | a live (pending or active) window of another agent | unsafe: conflict (window) |
 * | a live lease of C covering r                     | r is held                   |
 * | a live lease of C below r (C holds `src/a/x`, asks `src/a`) | no conflict, not held |
 * | C's own active window covering r                 | r is held                   |
 * | C's own pending window                           | no conflict, not held       |
 *
 * Then: with `leaseId`, that lease must be live and C's (else unsafe:
 * `lease_missing` / `not_owner`), and only it counts as holding. With
 * `requireHeld`, every r must be held (else unsafe: `not_held`). Otherwise
 * safe. Conflicts are reported before lease and holding problems.
 *
 * Unlike the Go original, the caller's own leases and windows are never
 * conflicts for the caller: they are its reservations. "Own" means held by
 * the caller's session under any handle, when {@linkcode GuardOptions.sessionId}
 * is given (a harness's subagents share its session, so they never conflict
 * with each other).
 *
 * @module
 */
import { coordKeys, heldBySelf } from "./shared.ts";
import type { ResourceConflict } from "./shared.ts";
import { decodeGuardReply, type GuardLookup } from "./replies.ts";

export type { GuardLookup } from "./replies.ts";
import { covers, normalizeResources } from "./resources.ts";
import type { Room } from "../room.ts";
import { GUARD } from "../scripts.ts";

/** What {@linkcode guardResources} checks. */
export interface GuardOptions {
  /** The caller's agent id. */
  agentId: string;
  /**
   * The caller's session token: what this session holds under any handle is
   * the caller's too (never a conflict). Omit to compare agent ids only.
   */
  sessionId?: string;
  /** The resources about to be used. */
  resources: readonly string[];
  /** The lease the caller acts under: it must be live and the caller's. */
  leaseId?: string;
  /** Every resource must be held by the caller. @default false */
  requireHeld?: boolean;
}

/** The guard's answer. `checkedAt` is the Redis server time of the read (Unix ms). */
export type GuardVerdict =
  | { safe: true; held: string[]; checkedAt: number }
  | {
    safe: false;
    reason: "conflict";
    /** The first conflict (in resource order). */
    conflict: ResourceConflict;
    /** One conflict per requested resource that has one, in resource order. */
    conflicts: ResourceConflict[];
    checkedAt: number;
  }
  | { safe: false; reason: "lease_missing"; leaseId: string; checkedAt: number }
  | { safe: false; reason: "not_owner"; leaseId: string; owner: string; checkedAt: number }
  | { safe: false; reason: "not_held"; resource: string; checkedAt: number };

/**
 * Answers whether the caller may use `resources` now (see the module's decision table).
 *
 * @param room the room
 * @param options caller, resources, lease, requireHeld
 * @returns the verdict
 * @throws {InvalidValueError} for a malformed resource (nothing is sent)
 */
export async function guardResources(room: Room, options: GuardOptions): Promise<GuardVerdict> {
  const resources = normalizeResources(options.resources);
  const reply = await room.redis.evalScript(GUARD, coordKeys(room), [
    options.agentId,
    options.leaseId ?? "",
    options.sessionId ?? "",
    ...resources,
  ]);
  return decideGuard(decodeGuardReply(reply, resources), options);
}

/**
 * The decision table as a pure function over a lookup.
 *
 * @param lookup what overlaps, at one instant
 * @param options caller, lease, requireHeld
 * @returns the verdict
 */
export function decideGuard(
  lookup: GuardLookup,
  options: Pick<GuardOptions, "agentId" | "sessionId" | "leaseId" | "requireHeld">,
): GuardVerdict {
  const mine = (record: { owner: string; session?: string }) =>
    heldBySelf(record, options.agentId, options.sessionId);
  const checkedAt = lookup.now;
  const conflicts: ResourceConflict[] = [];
  for (const r of lookup.resources) {
    const lease = lookup.leases.find((h) => h.requested === r && !mine(h.lease));
    if (lease) {
      const { held, lease: l } = lease;
      conflicts.push({
        kind: "lease",
        resource: r,
        conflictsWith: held,
        owner: l.owner,
        leaseId: l.id,
        expiresAt: l.expires_at,
        checkedAt,
      });
      continue;
    }
    const window = lookup.windows.find((h) => h.requested === r && !mine(h.window));
    if (window) {
      const { held, window: w } = window;
      conflicts.push({
        kind: "window",
        resource: r,
        conflictsWith: held,
        owner: w.owner,
        windowId: w.id,
        state: w.state,
        expiresAt: w.expires_at,
        checkedAt,
      });
    }
  }
  if (conflicts.length > 0) {
    return { safe: false, reason: "conflict", conflict: conflicts[0]!, conflicts, checkedAt };
  }
  const leaseId = options.leaseId;
  if (leaseId !== undefined && leaseId !== "") {
    if (!lookup.named) return { safe: false, reason: "lease_missing", leaseId, checkedAt };
    if (!mine(lookup.named)) {
      return { safe: false, reason: "not_owner", leaseId, owner: lookup.named.owner, checkedAt };
    }
  }
  const held = lookup.resources.filter((r) => isHeld(lookup, r, mine, leaseId || undefined));
  if (options.requireHeld) {
    const missing = lookup.resources.find((r) => !held.includes(r));
    if (missing !== undefined) {
      return { safe: false, reason: "not_held", resource: missing, checkedAt };
    }
  }
  return { safe: true, held, checkedAt };
}

function isHeld(
  lookup: GuardLookup,
  r: string,
  mine: (record: { owner: string; session?: string }) => boolean,
  leaseId: string | undefined,
): boolean {
  if (leaseId !== undefined) {
    return lookup.named !== undefined && lookup.named.resources.some((h) => covers(h, r));
  }
  return lookup.leases.some((h) => h.requested === r && mine(h.lease) && covers(h.held, r)) ||
    lookup.windows.some((h) =>
      h.requested === r && mine(h.window) && h.window.state === "active" &&
      covers(h.held, r)
    );
}
