/**
 * The data-layout version of a room: which keys and record shapes it holds.
 * Every script that writes a room event records, once, the layout version
 * of the agentroom that first wrote the room (`LAYOUT_VERSION` in
 * `lua/_lib.lua`, a field of the room's types-seen hash whose name has a
 * space, so it is never an event type, and which lapses with the room). An
 * agentroom that finds a newer layout refuses to touch the room rather than
 * corrupt it.
 *
 * @module
 */
import type { RoomCoordinates } from "./config.ts";
import { AgentroomError } from "./errors.ts";
import { roomKeys } from "./keys.ts";
import type { RedisPort } from "./redis/port.ts";

/**
 * The data layout this agentroom reads and writes (equal to `LAYOUT_VERSION`
 * in `lua/_lib.lua`; a test keeps them equal). Version 1: the layout of the
 * first release (rooms written before versions were recorded are version 1).
 */
export const SCHEMA_VERSION = 1;

/** The types-seen field that records the layout (`LAYOUT_FIELD` in `lua/_lib.lua`). */
export const SCHEMA_FIELD = "layout version";

/** A room was written with a newer data layout than this agentroom knows. */
export class SchemaTooNewError extends AgentroomError {
  /** The room's layout version. */
  readonly stored: number;
  /** Creates the error. */
  constructor(room: string, stored: number) {
    super(
      "schema_too_new",
      `room ${room} uses data layout ${stored}, newer than this agentroom's ` +
        `(${SCHEMA_VERSION}); it refuses to write there: upgrade agentroom`,
    );
    this.name = "SchemaTooNewError";
    this.stored = stored;
  }
}

/**
 * The layout version recorded in a room (read-only).
 *
 * @param redis the connection
 * @param room the room
 * @returns the version, `undefined` when the room has none recorded (no
 *   event written yet, or written before versions were recorded), or `-1`
 *   for a value that is not a version
 */
export async function readSchemaVersion(
  redis: RedisPort,
  room: RoomCoordinates,
): Promise<number | undefined> {
  const stored = await redis.call(["HGET", roomKeys(room).typesSeen, SCHEMA_FIELD]);
  if (stored === null || stored === undefined) return undefined;
  const version = Number(stored);
  return Number.isInteger(version) && version > 0 ? version : -1;
}

/**
 * Checks, in one read-only round trip, that this agentroom knows the room's
 * layout.
 *
 * @param redis the connection
 * @param room the room
 * @returns the room's version (`undefined` when none is recorded)
 * @throws {SchemaTooNewError} when the room uses a newer (or unknown) layout
 */
export async function checkSchema(
  redis: RedisPort,
  room: RoomCoordinates,
): Promise<number | undefined> {
  const stored = await readSchemaVersion(redis, room);
  if (stored !== undefined && (stored > SCHEMA_VERSION || stored < 0)) {
    throw new SchemaTooNewError(`${room.repo}:${room.branch}`, stored);
  }
  return stored;
}
