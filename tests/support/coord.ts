/**
 * Test support for leases, guard, windows, work and status: identities,
 * polling for server-side lapses, a port that must not be touched, and
 * readers for the audit trail and the coordination keys.
 *
 * @module
 */
import type { RoomEvent } from "../../src/codec.ts";
import { resolveIdentity } from "../../src/identity.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import type { Room } from "../../src/room.ts";
import { until } from "./poll.ts";

export { until };

/** Three agents in three sessions. */
export const alice = resolveIdentity("alice", "aaaa1111");
/** Second agent. */
export const bob = resolveIdentity("bob", "bbbb2222");
/** Third agent. */
export const carol = resolveIdentity("carol", "cccc3333");

/** Waits until the Redis server clock has passed `ms` (a lease or window deadline). */
export async function serverPassed(room: Room, ms: number): Promise<void> {
  await until(`server time past ${ms}`, async () => (await room.serverTime()) > ms);
}

/** A port that fails on any use: proves a call is rejected before Redis is touched. */
export function untouchablePort(): RedisPort & { used: number } {
  const port = {
    address: "redis://untouchable:1",
    used: 0,
    call() {
      port.used++;
      return Promise.reject(new Error("Redis must not be touched"));
    },
    pipeline() {
      port.used++;
      return Promise.reject(new Error("Redis must not be touched"));
    },
    evalScript() {
      port.used++;
      return Promise.reject(new Error("Redis must not be touched"));
    },
    callBytes() {
      port.used++;
      return Promise.reject(new Error("Redis must not be touched"));
    },
    close: () => Promise.resolve(),
  };
  return port;
}

/** Every event of the room, oldest first. */
export async function allEvents(room: Room): Promise<RoomEvent[]> {
  return await room.since("0-0", 100_000);
}

/** The events of `types`, oldest first. */
export async function eventsOf(room: Room, ...types: string[]): Promise<RoomEvent[]> {
  return (await allEvents(room)).filter((e) => types.includes(e.type));
}

/** Sizes of the coordination keys (HLEN/ZCARD), for "nothing written" checks. */
export async function coordSizes(room: Room): Promise<Record<string, number>> {
  const k = room.keys;
  const hashes = [k.leases, k.windows, k.work];
  const zsets = [k.leaseExpiry, k.leaseResources, k.windowsLive, k.windowsKeep, k.workExpiry];
  const replies = await room.redis.pipeline([
    ...hashes.map((key) => ["HLEN", key]),
    ...zsets.map((key) => ["ZCARD", key]),
    ["XLEN", k.events],
  ]);
  const names = [...hashes, ...zsets, k.events].map((key) => key.slice(k.prefix.length + 1));
  return Object.fromEntries(names.map((n, i) => [n, Number(replies[i])]));
}
