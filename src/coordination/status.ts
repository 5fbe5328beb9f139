/**
 * The room at a glance: live leases, pending and active quiet windows,
 * current work, open tasks and presence, in one call.
 *
 * Everything is read from indexes (the lease, window and work indexes in one
 * read-only script at one instant of server time; the open-task index; the
 * presence index), never by scanning the stream, so the cost does not grow
 * with the room's history. Each list is capped (`limit`); the counts are
 * always exact, so a capped list says how much it left out.
 *
 * @module
 */
import { readSnapshot, sortWork } from "./shared.ts";
import type { RoomEvent } from "../codec.ts";
import { InvalidValueError } from "../errors.ts";
import type { Lease, QuietWindow, WorkStatus } from "./shared.ts";
import { type PresenceEntry, roster } from "../presence.ts";
import type { Room } from "../room.ts";
import { openTasks } from "../tasks.ts";

/** The default cap of each list of {@linkcode roomStatus}. */
export const DEFAULT_STATUS_LIMIT = 100;

/** One snapshot of a room's coordination state. Lists are never null. */
export interface RoomStatus {
  /** Redis server time of the coordination read (Unix ms). */
  checked_at: number;
  /** Live leases, soonest expiry first (at most `limit`). */
  leases: Lease[];
  /** All live leases. */
  lease_count: number;
  /** Pending (before the ack deadline) and active windows (at most `limit`). */
  windows: QuietWindow[];
  /** All pending and active windows. */
  window_count: number;
  /** Current work statuses, most recently updated first (at most `limit`). */
  work: WorkStatus[];
  /** All current work statuses. */
  work_count: number;
  /** Unclaimed, undone tasks, newest first (at most `limit`). */
  open_tasks: RoomEvent[];
  /** Live agents, by id. */
  presence: PresenceEntry[];
}

/**
 * Reads the room's status.
 *
 * @param room the room
 * @param options `limit`: the most entries per list, 1–10000 (default 100)
 * @returns the snapshot
 * @throws {InvalidValueError} for a limit out of range
 */
export async function roomStatus(
  room: Room,
  options: { limit?: number } = {},
): Promise<RoomStatus> {
  const limit = options.limit ?? DEFAULT_STATUS_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidValueError(`Invalid status limit: must be 1–10000, got ${limit}`);
  }
  const [snapshot, tasks, presence] = await Promise.all([
    readSnapshot(room, { limit }),
    openTasks(room, limit),
    roster(room),
  ]);
  return {
    checked_at: snapshot.now,
    leases: snapshot.leases,
    lease_count: snapshot.leaseCount,
    windows: snapshot.windows,
    window_count: snapshot.windowCount,
    work: sortWork(snapshot.work),
    work_count: snapshot.workCount,
    open_tasks: tasks,
    presence,
  };
}
