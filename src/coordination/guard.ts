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
 * conflicts for the caller: they are its reservations.
 *
 * @module
 */
import { coordKeys } from "./shared.ts";
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
  | { safe: false; reason: "conflict"; conflict: ResourceConflict; checkedAt: number }
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
  options: Pick<GuardOptions, "agentId" | "leaseId" | "requireHeld">,
): GuardVerdict {
  const me = options.agentId;
  const checkedAt = lookup.now;
  for (const r of lookup.resources) {
    const lease = lookup.leases.find((h) => h.requested === r && h.lease.owner !== me);
    if (lease) {
      const { held, lease: l } = lease;
      return {
        safe: false,
        reason: "conflict",
        checkedAt,
        conflict: {
          kind: "lease",
          resource: r,
          conflictsWith: held,
          owner: l.owner,
          leaseId: l.id,
          expiresAt: l.expires_at,
          checkedAt,
        },
      };
    }
    const window = lookup.windows.find((h) => h.requested === r && h.window.owner !== me);
    if (window) {
      const { held, window: w } = window;
      return {
        safe: false,
        reason: "conflict",
        checkedAt,
        conflict: {
          kind: "window",
          resource: r,
          conflictsWith: held,
          owner: w.owner,
          windowId: w.id,
          state: w.state,
          expiresAt: w.expires_at,
          checkedAt,
        },
      };
    }
  }
  const leaseId = options.leaseId;
  if (leaseId !== undefined && leaseId !== "") {
    if (!lookup.named) return { safe: false, reason: "lease_missing", leaseId, checkedAt };
    if (lookup.named.owner !== me) {
      return { safe: false, reason: "not_owner", leaseId, owner: lookup.named.owner, checkedAt };
    }
  }
  const held = lookup.resources.filter((r) => isHeld(lookup, r, me, leaseId || undefined));
  if (options.requireHeld) {
    const missing = lookup.resources.find((r) => !held.includes(r));
    if (missing !== undefined) {
      return { safe: false, reason: "not_held", resource: missing, checkedAt };
    }
  }
  return { safe: true, held, checkedAt };
}

function isHeld(lookup: GuardLookup, r: string, me: string, leaseId: string | undefined): boolean {
  if (leaseId !== undefined) {
    return lookup.named !== undefined && lookup.named.resources.some((h) => covers(h, r));
  }
  return lookup.leases.some((h) =>
    h.requested === r && h.lease.owner === me && covers(h.held, r)
  ) ||
    lookup.windows.some((h) =>
      h.requested === r && h.window.owner === me && h.window.state === "active" &&
      covers(h.held, r)
    );
}
