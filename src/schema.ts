/**
 * The data-layout version of a room: which keys and record shapes it holds.
 * A room records the version it was written with; an agentroom that finds a
 * newer one refuses to touch the room rather than corrupt it.
 *
 * @module
 */
import type { RoomConfig } from "./config.ts";
import { AgentroomError } from "./errors.ts";
import { roomKeys } from "./keys.ts";
import type { RedisPort } from "./redis/port.ts";
import { intReply } from "./replies.ts";
import { SCHEMA } from "./scripts.ts";

/**
 * The data layout this agentroom reads and writes. Version 1: the layout of
 * the first release (rooms written before versions were recorded are version 1).
 */
export const SCHEMA_VERSION = 1;

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
 * The version recorded in a room, without stamping it.
 *
 * @param redis the connection
 * @param config the room
 * @returns the version, or `undefined` when none is recorded
 */
export async function readSchemaVersion(
  redis: RedisPort,
  config: Pick<RoomConfig, "repo" | "branch">,
): Promise<number | undefined> {
  const stored = await redis.call(["GET", roomKeys(config).schema]);
  if (stored === null || stored === undefined) return undefined;
  const version = Number(stored);
  return Number.isInteger(version) ? version : -1;
}

/**
 * Checks a room's layout version in one round trip, stamping this
 * agentroom's version on a room that has data but no stamp.
 *
 * @param redis the connection
 * @param config the room
 * @returns the room's version (0 for an empty room)
 * @throws {SchemaTooNewError} when the room uses a newer layout
 */
export async function checkSchema(
  redis: RedisPort,
  config: Pick<RoomConfig, "repo" | "branch">,
): Promise<number> {
  const keys = roomKeys(config);
  const stored = intReply(
    SCHEMA,
    await redis.evalScript(SCHEMA, [keys.schema, keys.events], [String(SCHEMA_VERSION)]),
  );
  if (stored > SCHEMA_VERSION || stored < 0) {
    throw new SchemaTooNewError(`${config.repo}:${config.branch}`, stored);
  }
  return stored;
}
