/**
 * Lapse notices. A claim, lease or quiet window that lapses (its holder did
 * not renew, release or finish it in time) yields exactly one event,
 * `CLAIM_LAPSED`, `LEASE_EXPIRED` or `WINDOW_EXPIRED`, addressed to the former
 * owner and copied into its inbox, so its next hook tells it that it no
 * longer holds what it may still be editing. Lapsed records are kept until
 * their notice is written (a safety net drops them 24 h after the lapse).
 *
 * Whoever observes a lapse first writes the notice: {@linkcode sweepLapses}
 * is called by the hooks and by the commands that read the room's holds,
 * and a long-running daemon may call it on a timer. Each notice is written
 * in one atomic script together with the removal of the lapsed record, so
 * concurrent sweepers never write two.
 *
 * @module
 */
import type { Room } from "../room.ts";
import { SWEEP_LAPSES } from "../scripts.ts";
import { ScriptReply } from "../replies.ts";
import { coordKeys } from "./shared.ts";

/** Most lapsed records handled per kind by one sweep. */
export const SWEEP_BATCH = 50;

/** What one sweep wrote. */
export interface SweepResult {
  /** Notices written by this call (others may have been written by concurrent sweepers). */
  notices: number;
  /** Their event ids. */
  eventIds: string[];
}

type Candidate = { kind: "lease" | "window" | "claim"; id: string; owner: string };

function ownerOf(json: unknown): string | undefined {
  if (typeof json !== "string") return undefined;
  try {
    const owner = (JSON.parse(json) as { owner?: unknown }).owner;
    return typeof owner === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the notice of every lapsed claim, lease and quiet window of the
 * room not noticed yet (up to {@linkcode SWEEP_BATCH} of each kind) and drops
 * those records. Costs one pipelined read when nothing lapsed.
 *
 * @param room the room
 * @returns how many notices this call wrote
 */
export async function sweepLapses(room: Room): Promise<SweepResult> {
  const { keys } = room;
  const [time, leases, windows, claims] = await room.redis.pipeline([
    ["TIME"],
    ["ZRANGE", keys.leaseExpiry, 0, SWEEP_BATCH - 1, "WITHSCORES"],
    ["ZRANGE", keys.windowsLive, 0, SWEEP_BATCH - 1, "WITHSCORES"],
    ["ZRANGE", keys.claims, 0, SWEEP_BATCH - 1, "WITHSCORES"],
  ]);
  for (const r of [time, leases, windows, claims]) if (r instanceof Error) throw r;
  const [sec, usec] = (time as string[]).map(Number);
  const now = sec! * 1000 + Math.floor(usec! / 1000);
  const lapsedIds = (reply: unknown): string[] => {
    const flat = Array.isArray(reply) ? reply.map(String) : [];
    const ids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (Number(flat[i + 1]) <= now) ids.push(flat[i]!);
    }
    return ids;
  };
  const lapsed = {
    lease: lapsedIds(leases),
    window: lapsedIds(windows),
    claim: lapsedIds(claims),
  };
  if (lapsed.lease.length + lapsed.window.length + lapsed.claim.length === 0) {
    return { notices: 0, eventIds: [] };
  }
  const reads: (string | number)[][] = [];
  if (lapsed.lease.length > 0) reads.push(["HMGET", keys.leases, ...lapsed.lease]);
  if (lapsed.window.length > 0) reads.push(["HMGET", keys.windows, ...lapsed.window]);
  if (lapsed.claim.length > 0) reads.push(["HMGET", keys.claimOwners, ...lapsed.claim]);
  const replies = await room.redis.pipeline(reads);
  const candidates: Candidate[] = [];
  let at = 0;
  for (const kind of ["lease", "window", "claim"] as const) {
    if (lapsed[kind].length === 0) continue;
    const values = replies[at++];
    if (values instanceof Error) throw values;
    lapsed[kind].forEach((id, i) => {
      const value = Array.isArray(values) ? values[i] : undefined;
      const owner = kind === "claim"
        ? (typeof value === "string" ? value : undefined)
        : ownerOf(value);
      if (owner !== undefined) candidates.push({ kind, id, owner });
    });
  }
  if (candidates.length === 0) return { notices: 0, eventIds: [] };
  const r = new ScriptReply(
    SWEEP_LAPSES,
    await room.redis.evalScript(SWEEP_LAPSES, [
      ...coordKeys(room),
      keys.claims,
      keys.claimOwners,
      keys.inboxRecipients,
      ...candidates.map((c) => keys.inbox(c.owner)),
    ], [
      room.config.streamTtlMs,
      room.config.streamMaxLen,
      room.config.inboxMaxLen,
      room.config.inboxTtlMs,
      ...candidates.flatMap((c) => [c.kind, c.id, c.owner]),
    ]),
  );
  r.items(2, 2);
  return { notices: r.int(0), eventIds: r.texts(1) };
}
