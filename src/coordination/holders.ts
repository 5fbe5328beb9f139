/**
 * Holders: the agents that hold claims, leases or quiet windows, with their
 * presence. An absent holder ("owner absent 12m") blocks others until its
 * records lapse or someone breaks them (`breakLease`, `stealTask`); `hung`
 * lists holders whose presence is older than a threshold.
 *
 * @module
 */
import { type HolderPresence, presenceView } from "../presence.ts";
import type { Room } from "../room.ts";
import { liveClaims } from "../tasks.ts";
import { readSnapshot } from "./shared.ts";

/** One agent holding something, and its presence. */
export interface Holder {
  /** The holder's agent id. */
  agent_id: string;
  /** Its presence (its own, or any agent of its recorded session). */
  presence: HolderPresence;
  /** Ids of the live leases it holds. */
  leases: string[];
  /** Ids of the pending or active quiet windows it owns. */
  windows: string[];
  /** Ids of the tasks it has claimed. */
  claims: string[];
}

/**
 * Every agent holding a live claim, lease or pending/active window, with
 * its presence, sorted by agent id.
 *
 * @param room the room
 * @returns the holders and the server time of the read
 */
export async function holders(room: Room): Promise<{ now: number; holders: Holder[] }> {
  const [snapshot, claims, view] = await Promise.all([
    readSnapshot(room, { limit: 0 }),
    liveClaims(room),
    presenceView(room),
  ]);
  const byAgent = new Map<string, Holder & { session?: string }>();
  const entry = (owner: string, session?: string) => {
    let h = byAgent.get(owner);
    if (!h) {
      h = { agent_id: owner, presence: { present: false }, leases: [], windows: [], claims: [] };
      byAgent.set(owner, h);
    }
    if (session) h.session = session;
    return h;
  };
  for (const l of snapshot.leases) entry(l.owner, l.session).leases.push(l.id);
  for (const w of snapshot.windows) {
    if (w.state === "pending" || w.state === "active") entry(w.owner, w.session).windows.push(w.id);
  }
  for (const c of claims) entry(c.owner).claims.push(c.task_id);
  const out: Holder[] = [];
  for (const { session, ...h } of byAgent.values()) {
    out.push({ ...h, presence: view.of({ owner: h.agent_id, session }) });
  }
  return { now: view.now, holders: out.sort((a, b) => a.agent_id.localeCompare(b.agent_id)) };
}

/**
 * Hung holders: holders with no live presence, and present holders whose
 * latest heartbeat is older than `thresholdMs`. They block others until
 * their records lapse or are broken (`breakLease`, `stealTask`).
 *
 * @param room the room
 * @param thresholdMs heartbeat age from which a present holder counts as hung
 */
export async function hungHolders(room: Room, thresholdMs: number): Promise<Holder[]> {
  const { holders: all } = await holders(room);
  return all.filter((h) => !h.presence.present || (h.presence.silentMs ?? 0) >= thresholdMs);
}
