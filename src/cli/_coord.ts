/**
 * Shared parts of the coordination commands (`lease`, `guard`, `window`,
 * `work`, `status`): argument checks that run before Redis is touched
 * (malformed input exits 2), conflict messages that name the holder and the
 * next step, and one-line renderings of leases and windows.
 *
 * @module
 */
import { isCoordinationId } from "../coordination/shared.ts";
import { InvalidValueError, NotFoundError } from "../errors.ts";
import { DAY_MS } from "../limits.ts";
import type { Lease, ResourceConflict } from "../coordination/leases.ts";
import { absenceNote, type HolderPresence, type PresenceEntry } from "../presence.ts";
export { absenceNote, minutes } from "../presence.ts";
import { normalizeResources } from "../coordination/resources.ts";
import { terminalText } from "../sanitize.ts";
import { resolveTarget } from "../targets.ts";
import type { QuietWindow } from "../coordination/windows.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Context } from "./_context.ts";
import { formatDuration } from "./_output.ts";

/** Re-exported for the commands: a missing or expired lease or window (exit 1). */
export { NotFoundError };

/** The subcommand word and the positionals after it; unknown words are usage errors. */
export function subcommand<T extends string>(
  ctx: Context,
  command: string,
  known: readonly T[],
): { sub: T; rest: string[] } {
  const [word = "", ...rest] = ctx.line.positionals;
  if (!(known as readonly string[]).includes(word)) {
    throw new UsageError(
      `unknown ${command} subcommand ${JSON.stringify(word)}; expected ${known.join("|")}`,
      command,
    );
  }
  return { sub: word as T, rest };
}

/** Refuses flags of the command that do not apply to this subcommand. */
export function onlyFlags(
  ctx: Context,
  command: string,
  sub: string,
  own: readonly string[],
  allowed: readonly string[],
): void {
  for (const flag of own) {
    if (ctx.line.values[flag] !== undefined && !allowed.includes(flag)) {
      throw new UsageError(`--${flag} does not apply to '${command} ${sub}'`, command);
    }
  }
}

/** Checks the count of positionals after a subcommand. */
export function positionals(
  command: string,
  sub: string,
  rest: string[],
  min: number,
  max: number,
  what: string,
): void {
  if (rest.length < min) {
    throw new UsageError(`missing argument: '${command} ${sub}' takes ${what}`, command);
  }
  if (rest.length > max) {
    throw new UsageError(`too many arguments: '${command} ${sub}' takes ${what}`, command);
  }
}

/** Normalised resources, or a usage error naming what is wrong. */
export function resourcesArg(command: string, raw: string[]): string[] {
  try {
    return normalizeResources(raw);
  } catch (error) {
    if (error instanceof InvalidValueError) throw new UsageError(error.message, command);
    throw error;
  }
}

/** A lease or window id, or a usage error. */
export function idArg(command: string, what: "lease" | "window", raw: string): string {
  if (!isCoordinationId(raw)) {
    throw new UsageError(
      `${what} id must be 32 lowercase hex characters, got ${JSON.stringify(raw)}`,
      command,
    );
  }
  return raw;
}

/** A duration flag from 1 ms to 24h, or a usage error. */
export function durationFlag(
  ctx: Context,
  command: string,
  flag: string,
  fallback: number,
): number {
  const text = ctx.flag(flag);
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > DAY_MS) {
    throw new UsageError(
      `--${flag} must be a duration between 1ms and 24h such as 90s, 15m or 1h, got ${
        JSON.stringify(text)
      }`,
      command,
    );
  }
  return ms;
}

/** A required, non-blank string flag, or a usage error. */
export function requiredFlag(ctx: Context, command: string, flag: string, example: string): string {
  const value = ctx.flag(flag);
  if (value === undefined || value.trim() === "") {
    throw new UsageError(`--${flag} is required, e.g. --${flag} ${example}`, command);
  }
  return value;
}

/**
 * Resolves `raw` (id, handle or unique prefix) to one live agent id.
 *
 * @throws {InvalidValueError} ambiguous or a room key (exit 1, candidates listed)
 * @throws {NotFoundError} no live agent matches (exit 1, live agents listed)
 */
export function liveAgent(flag: string, raw: string, live: readonly PresenceEntry[]): string {
  const target = resolveTarget(raw, live);
  if (target.kind === "agent") return target.to;
  if (target.kind === "ambiguous") {
    throw new InvalidValueError(
      `--${flag} ${JSON.stringify(raw)} is ambiguous; candidates: ${target.candidates.join(", ")}`,
    );
  }
  if (target.reason === "room-key") {
    throw new InvalidValueError(`--${flag} ${JSON.stringify(raw)} is a room key; name an agent`);
  }
  const ids = live.map((e) => e.identity.agent_id).sort();
  throw new NotFoundError(
    `--${flag} ${JSON.stringify(raw)} does not match a live agent; live: ${
      ids.length > 0 ? ids.join(", ") : "(nobody)"
    }`,
  );
}

/** Time left until `at`, seen from `now`, e.g. `14m59s`. */
export function left(at: number, now: number): string {
  return formatDuration(Math.max(0, at - now));
}

/**
 * Explains a conflict and what to do next, from the point of view of `me`.
 *
 * @param c the conflict
 * @param me the caller's agent id
 */
export function conflictText(c: ResourceConflict, me: string, presence?: HolderPresence): string {
  const at = `${terminalText(c.resource)} conflicts with ${terminalText(c.conflictsWith)}`;
  const owner = terminalText(c.owner);
  const absent = c.owner === me ? "" : absenceNote(presence);
  if (c.kind === "lease") {
    const remaining = left(c.expiresAt, c.checkedAt);
    if (c.owner === me) {
      return `${at} in your own lease ${terminalText(c.leaseId)} (${remaining} left); ` +
        `renew it with 'agentroom lease renew ${terminalText(c.leaseId)}' or release it first`;
    }
    if (absent !== "") {
      return `${at}, leased by ${owner} (lease ${
        terminalText(c.leaseId)
      }, ${remaining} left; ${absent}); ` +
        `break it with 'agentroom lease break ${
          terminalText(c.leaseId)
        } --reason ...' once the owner has been away longer than the grace period`;
    }
    return `${at}, leased by ${owner} (lease ${terminalText(c.leaseId)}, ${remaining} left); ` +
      `wait for it to be released or ask ${owner} to release it`;
  }
  if (absent !== "") {
    return `${at} in the ${terminalText(c.state)} quiet window ${
      terminalText(c.windowId)
    } of ${owner} (${left(c.expiresAt, c.checkedAt)} left; ${absent}); it ends by itself then`;
  }
  if (c.state === "pending") {
    return `${at} in the pending quiet window ${terminalText(c.windowId)} requested by ${owner} ` +
      `(ack deadline in ${left(c.expiresAt, c.checkedAt)}); acknowledge it with ` +
      `'agentroom window ack ${
        terminalText(c.windowId)
      }' if you are asked, release overlapping leases, ` +
      `and wait until it ends`;
  }
  return `${at} in the active quiet window ${terminalText(c.windowId)} of ${owner} ` +
    `(${left(c.expiresAt, c.checkedAt)} left); wait until it is released`;
}

/**
 * The `--json` verdict of a refused lease or window request (printed on
 * stdout before exit 3): what conflicted, its holder, id, time left and
 * whether the holder is present.
 */
export function conflictJson(
  c: ResourceConflict,
  message: string,
  holder: HolderPresence,
): Record<string, unknown> {
  return {
    conflict: true,
    error: message,
    kind: c.kind,
    resource: c.resource,
    conflicts_with: c.conflictsWith,
    holder: c.owner,
    id: c.kind === "lease" ? c.leaseId : c.windowId,
    ...(c.kind === "window" ? { state: c.state } : {}),
    expires_at: c.expiresAt,
    time_left_ms: Math.max(0, c.expiresAt - c.checkedAt),
    holder_presence: presenceJson(holder),
    checked_at: c.checkedAt,
  };
}

/** A holder's presence for `--json`: `{ present, absent_ms? }`. */
export function presenceJson(p: HolderPresence): { present: boolean; absent_ms?: number } {
  return p.present ? { present: true } : {
    present: false,
    ...(p.absentMs === undefined ? {} : { absent_ms: p.absentMs }),
  };
}

/** `  [owner absent 12m]` or `""`. */
function absenceSuffix(p: HolderPresence | undefined): string {
  const note = absenceNote(p);
  return note === "" ? "" : `  [${note}]`;
}

/** One line for `lease list` and `status`; `presence` marks an absent owner. */
export function leaseLine(l: Lease, now: number, presence?: HolderPresence): string {
  return `${terminalText(l.id)}  ${terminalText(l.owner)}  ${
    terminalText(l.resources.join(", "))
  }  (${left(l.expires_at, now)} left)  ${terminalText(l.purpose)}${absenceSuffix(presence)}`;
}

/** One line for `window status` and `status`; `presence` marks an absent owner. */
export function windowLine(w: QuietWindow, now: number, presence?: HolderPresence): string {
  const when = w.state === "pending"
    ? `ack deadline in ${left(w.ack_deadline, now)}`
    : w.state === "active"
    ? `${left(w.expires_at, now)} left`
    : "ended";
  return `${terminalText(w.id)}  ${terminalText(w.state).padEnd(9)} ${terminalText(w.owner)}  ${
    terminalText(w.resources.join(", "))
  }  (${when})  ${terminalText(w.purpose)}${
    w.state === "pending" || w.state === "active" ? absenceSuffix(presence) : ""
  }`;
}
