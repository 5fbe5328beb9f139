/**
 * Room coordinates and tunables. The library takes these as values and never
 * reads the environment; the CLI and hooks build them from flags and variables.
 *
 * @module
 */
import { InvalidValueError } from "./errors.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Tunables of a room, all durations in milliseconds. */
export interface RoomTunables {
  /** Idle expiry of the room stream, re-armed by every write; `0` never expires. @default 48h */
  streamTtlMs: number;
  /**
   * Approximate `MAXLEN ~` cap of the room stream; `0` disables trimming.
   * Trimming discards events, so it is off by default (nothing is dropped silently).
   * @default 0
   */
  streamMaxLen: number;
  /** Largest accepted payload in bytes (UTF-8 of its JSON text); `0` disables the cap. @default 16384 */
  maxPayloadBytes: number;
  /** Lifetime of a presence record after its last heartbeat. @default 15m */
  presenceTtlMs: number;
  /** Lifetime of a per-session read cursor. @default 24h */
  cursorTtlMs: number;
  /** How far back a joining session replays the room. @default 10m */
  joinReplayMs: number;
  /** Approximate cap of each durable inbox. @default 1000 */
  inboxMaxLen: number;
  /** Idle expiry of inboxes and their cursors. @default 30 days */
  inboxTtlMs: number;
  /**
   * Approximate cap of each mailbox (messages kept for a handle or id with no
   * live agent; they live as long as the room). @default 200
   */
  mailboxMaxLen: number;
  /** How many recent events `directed()` scans. @default 1000 */
  directedScan: number;
  /**
   * Durability option: after a claim, a completion, a task release or takeover, and a lease
   * acquire, renew, release or break, send `WAIT <durabilityReplicas> <durabilityTimeoutMs>` on the connection (the
   * node) that ran the script, and throw `ReplicationTimeoutError` when fewer replicas
   * confirmed. `0` (the default) does not wait. See README "Guarantees" for what WAIT does and
   * does not promise.
   * @default 0
   */
  durabilityReplicas: number;
  /** How long the durability option waits for the replicas. @default 1000 */
  durabilityTimeoutMs: number;
}

/** The address of a room: one per repository and branch. */
export interface RoomCoordinates {
  /** Repository id (usually the git toplevel's basename). */
  repo: string;
  /** Branch name. */
  branch: string;
}

/** A complete room configuration. */
export type RoomConfig = RoomCoordinates & RoomTunables;

/** The documented defaults of every tunable. */
export const DEFAULT_TUNABLES: Readonly<RoomTunables> = Object.freeze({
  streamTtlMs: 48 * HOUR,
  streamMaxLen: 0,
  maxPayloadBytes: 16 * 1024,
  presenceTtlMs: 15 * MINUTE,
  cursorTtlMs: 24 * HOUR,
  joinReplayMs: 10 * MINUTE,
  inboxMaxLen: 1000,
  inboxTtlMs: 30 * DAY,
  mailboxMaxLen: 200,
  directedScan: 1000,
  durabilityReplicas: 0,
  durabilityTimeoutMs: 1000,
});

/** The lobby: the cross-repo room every agent can reach. */
export const LOBBY: Readonly<RoomCoordinates> = Object.freeze({ repo: "lobby", branch: "main" });

/** Longest accepted repo or branch name, in characters. */
export const MAX_NAME_LENGTH = 200;

/**
 * Builds a validated room configuration from coordinates and optional
 * overrides. The repo `lobby` always means the lobby room (branch `main`).
 *
 * @param coords repo and branch
 * @param overrides tunables to change
 * @returns the full configuration
 * @throws {InvalidValueError} when a name is empty, too long or has control
 * characters, or a tunable is negative or not an integer
 */
export function roomConfig(
  coords: RoomCoordinates,
  overrides: Partial<RoomTunables> = {},
): RoomConfig {
  const repo = checkName("repo", coords.repo);
  const branch = repo === LOBBY.repo ? LOBBY.branch : checkName("branch", coords.branch);
  const config: RoomConfig = { ...DEFAULT_TUNABLES, ...overrides, repo, branch };
  for (const key of Object.keys(DEFAULT_TUNABLES) as (keyof RoomTunables)[]) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidValueError(
        `Cannot configure room: ${key} must be a non-negative integer, got ${value}`,
      );
    }
  }
  return config;
}

function checkName(what: string, value: string): string {
  const name = value.trim();
  if (name === "") throw new InvalidValueError(`Cannot open room: ${what} name is empty`);
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidValueError(
      `Cannot open room: ${what} name is longer than ${MAX_NAME_LENGTH} characters`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw new InvalidValueError(`Cannot open room: ${what} name has control characters`);
  }
  return name;
}
