/**
 * The durability option: after a change that must survive a failover (a
 * claim, a lease), ask Redis to confirm it on replicas with `WAIT`, on the
 * connection that ran the script. Off unless the room's
 * `durabilityReplicas` is above 0.
 *
 * What it gives: when it returns, the change (and every earlier write of the
 * connection) is in the memory of that many replicas, so a failover that
 * promotes one of them keeps it. What it does not: it is not a transaction
 * or consensus. The change is visible to others before the replicas confirm;
 * when WAIT times out the change stays made on the primary (the error says
 * so); a promoted replica that had not received it loses it; and replicas
 * acknowledge what they received, not what they wrote to disk.
 *
 * @module
 */
import { InvalidValueError, ReplicationTimeoutError } from "./errors.ts";
import type { Room } from "./room.ts";

/**
 * Returns `result` once the room's durability option is satisfied for the
 * writes made so far on the room's connection.
 *
 * @param room the room (its config holds the option)
 * @param what what was changed, for the error message (e.g. `claim of task 1-0`)
 * @param result the answer of the change
 * @throws {ReplicationTimeoutError} when fewer replicas confirmed in time
 * @throws {InvalidValueError} when the option is on but the port cannot send WAIT
 */
export async function confirmDurable<T>(room: Room, what: string, result: T): Promise<T> {
  const wanted = room.config.durabilityReplicas;
  if (wanted <= 0) return result;
  const port = room.redis;
  if (!port.waitForReplicas) {
    throw new InvalidValueError(
      `Cannot confirm ${what} on replicas: this Redis connection does not support WAIT`,
    );
  }
  const timeoutMs = room.config.durabilityTimeoutMs;
  const confirmed = await port.waitForReplicas(room.keys.events, wanted, timeoutMs);
  if (confirmed < wanted) {
    throw new ReplicationTimeoutError(what, { confirmed, wanted, timeoutMs, result });
  }
  return result;
}
