/**
 * Resolving a destination (`--to`) against the live roster.
 *
 * @module
 */
import { InvalidValueError, NotFoundError } from "./errors.ts";
import type { PresenceEntry } from "./presence.ts";

/** How a destination resolved. */
export type TargetResolution =
  | { kind: "verbatim"; to: string; reason: "room-key" | "empty" | "no-match" }
  | { kind: "agent"; to: string; how: "exact" | "handle" | "prefix" }
  | { kind: "ambiguous"; candidates: string[] };

/**
 * Resolves a raw destination: empty or containing `:` (a room key) is kept
 * verbatim; otherwise an exact live id, then a unique handle, then a unique
 * id prefix. Several matches are ambiguous; none is kept verbatim.
 *
 * @param raw the destination as typed
 * @param live the live roster
 * @returns the resolution
 */
export function resolveTarget(raw: string, live: readonly PresenceEntry[]): TargetResolution {
  const target = raw.trim();
  if (target === "") return { kind: "verbatim", to: "", reason: "empty" };
  if (target.includes(":")) return { kind: "verbatim", to: target, reason: "room-key" };
  const ids = live.map((e) => e.identity.agent_id);
  if (ids.includes(target)) return { kind: "agent", to: target, how: "exact" };
  const byHandle = live.filter((e) => e.identity.handle === target).map((e) => e.identity.agent_id);
  if (byHandle.length === 1) return { kind: "agent", to: byHandle[0]!, how: "handle" };
  if (byHandle.length > 1) return { kind: "ambiguous", candidates: byHandle.sort() };
  const byPrefix = ids.filter((id) => id.startsWith(target));
  if (byPrefix.length === 1) return { kind: "agent", to: byPrefix[0]!, how: "prefix" };
  if (byPrefix.length > 1) return { kind: "ambiguous", candidates: byPrefix.sort() };
  return { kind: "verbatim", to: target, reason: "no-match" };
}

/**
 * Resolves a destination that must be exactly one live agent (for `ask`,
 * handoffs and required acknowledgers).
 *
 * @param raw the destination as typed
 * @param live the live roster
 * @returns the agent id
 * @throws {InvalidValueError} when empty, a room key, or ambiguous (candidates listed)
 * @throws {NotFoundError} when no live agent matches (live agents listed)
 */
export function resolveLiveTarget(raw: string, live: readonly PresenceEntry[]): string {
  const target = resolveTarget(raw, live);
  if (target.kind === "agent") return target.to;
  if (target.kind === "ambiguous") {
    throw new InvalidValueError(
      `--to ${JSON.stringify(raw)} is ambiguous; candidates: ${target.candidates.join(", ")}`,
    );
  }
  if (target.reason === "empty") throw new InvalidValueError("--to is required");
  if (target.reason === "room-key") {
    throw new InvalidValueError(
      `--to ${JSON.stringify(raw)} is a room key; name one live agent`,
    );
  }
  const ids = live.map((e) => e.identity.agent_id).sort();
  throw new NotFoundError(
    `--to ${JSON.stringify(raw)} does not match a live agent; live: ${
      ids.length > 0 ? ids.join(", ") : "(nobody)"
    }`,
  );
}
