/**
 * Presence: who is in the room right now. Each agent has a record with a TTL
 * plus a member in the room's index (a sorted set scored by expiry on the
 * Redis server clock), so listing costs O(log n + live agents), never a scan.
 *
 * Presence is liveness, not attendance: an empty roster is no proof that
 * nobody is working.
 *
 * @module
 */
import { sanitizeHandle } from "./identity.ts";
import type { AgentIdentity } from "./identity.ts";
import type { Room } from "./room.ts";
import { clip, oneLine } from "./sanitize.ts";
import { HEARTBEAT, PRESENCE_CLEAR, ROSTER } from "./scripts.ts";
import { decodeRosterReply, intReply } from "./replies.ts";

/** One live agent of the roster. */
export interface PresenceEntry {
  /** Identity stored with the record. */
  identity: AgentIdentity;
  /** What the agent said it is doing (may be empty). */
  description: string;
  /** Milliseconds until the record expires. */
  ttl_ms: number;
}

/** Longest stored description, in characters. */
export const MAX_DESCRIPTION_LENGTH = 160;

interface PresenceRecord {
  schema_version: 1;
  identity: AgentIdentity;
  description: string;
}

/**
 * A labelled heartbeat: writes the record with a description and refreshes its TTL.
 *
 * @param room the room
 * @param options the identity and its description
 * @returns the expiry (Unix ms, server clock)
 */
export async function heartbeat(
  room: Room,
  options: { identity: AgentIdentity; description: string },
): Promise<number> {
  return await writePresence(room, options.identity, clipDescription(options.description), "label");
}

/**
 * A refresh-only heartbeat: extends the TTL and keeps the existing
 * description; creates an empty record when none exists.
 *
 * @param room the room
 * @param identity who is alive
 * @returns the expiry (Unix ms, server clock)
 */
export async function refreshPresence(room: Room, identity: AgentIdentity): Promise<number> {
  return await writePresence(room, identity, "", "refresh");
}

async function writePresence(
  room: Room,
  identity: AgentIdentity,
  description: string,
  mode: "label" | "refresh",
): Promise<number> {
  const record: PresenceRecord = { schema_version: 1, identity, description };
  const agent = identity.agent_id;
  const reply = await room.redis.evalScript(
    HEARTBEAT,
    [
      room.keys.presence(agent),
      room.keys.presenceIndex,
      room.keys.presenceEnds,
      room.keys.inbox(agent),
      room.keys.inboxRecipients,
      room.keys.mailbox(identity.handle === "" ? agent : identity.handle),
      room.keys.mailbox(agent),
      room.keys.mailboxIndex,
    ],
    [
      room.config.presenceTtlMs,
      agent,
      JSON.stringify(record),
      mode,
      room.config.inboxMaxLen,
      room.config.inboxTtlMs,
      room.config.streamTtlMs,
      identity.handle,
    ],
  );
  return intReply(HEARTBEAT, reply);
}

/**
 * Builds the description of a labelled heartbeat from `role` and
 * `working_on`: `role: working_on`, or whichever is present.
 *
 * @param role the agent's role
 * @param workingOn what it works on
 * @returns the description, or `""` when both are empty
 */
export function joinDescription(role: string, workingOn: string): string {
  return [oneLine(role).trim(), oneLine(workingOn).trim()].filter((s) => s !== "").join(": ");
}

function clipDescription(text: string): string {
  return clip(oneLine(text).trim(), MAX_DESCRIPTION_LENGTH);
}

/**
 * Lists live agents, pruning expired index members on the server clock.
 *
 * @param room the room
 * @returns entries sorted by agent id
 */
export async function roster(room: Room): Promise<PresenceEntry[]> {
  const members = decodeRosterReply(
    await room.redis.evalScript(ROSTER, [room.keys.presenceIndex], []),
  );
  if (members.length === 0) return [];
  const replies = await room.redis.pipeline(
    members.flatMap((m) => [["GET", room.keys.presence(m)], ["PTTL", room.keys.presence(m)]]),
  );
  const entries: PresenceEntry[] = [];
  const vanished: string[] = [];
  members.forEach((member, i) => {
    const value = replies[2 * i];
    const ttl = replies[2 * i + 1];
    if (value instanceof Error) throw value;
    if (typeof value !== "string" || typeof ttl !== "number" || ttl < 0) {
      vanished.push(member);
      return;
    }
    entries.push({ ...decodeRecord(member, value), ttl_ms: ttl });
  });
  if (vanished.length > 0) await room.redis.call(["ZREM", room.keys.presenceIndex, ...vanished]);
  return entries.sort((a, b) => a.identity.agent_id.localeCompare(b.identity.agent_id));
}

/**
 * One agent's presence, or `undefined` when it has none (one round trip;
 * cheaper than the roster when only one record is needed).
 *
 * @param room the room
 * @param agentId the agent
 */
export async function presenceOf(room: Room, agentId: string): Promise<PresenceEntry | undefined> {
  const [value, ttl] = await room.redis.pipeline([
    ["GET", room.keys.presence(agentId)],
    ["PTTL", room.keys.presence(agentId)],
  ]);
  if (value instanceof Error) throw value;
  if (typeof value !== "string" || typeof ttl !== "number" || ttl < 0) return undefined;
  return { ...decodeRecord(agentId, value), ttl_ms: ttl };
}

function decodeRecord(member: string, value: string): Omit<PresenceEntry, "ttl_ms"> {
  try {
    const record = JSON.parse(value) as Partial<PresenceRecord>;
    if (record.schema_version === 1 && record.identity) {
      return {
        identity: {
          agent_id: String(record.identity.agent_id ?? member),
          handle: String(record.identity.handle ?? ""),
          session_id: String(record.identity.session_id ?? ""),
        },
        description: String(record.description ?? ""),
      };
    }
  } catch {
    // a legacy plain-text record: the whole value is the description
  }
  return { identity: { agent_id: member, handle: "", session_id: "" }, description: value };
}

/**
 * Names of the mailboxes with messages waiting (handles or exact agent ids
 * with no live agent yet), with how many each holds.
 *
 * @param room the room
 */
export async function mailboxes(room: Room): Promise<{ name: string; count: number }[]> {
  const names = await room.redis.call(["ZRANGE", room.keys.mailboxIndex, 0, -1]);
  if (!Array.isArray(names) || names.length === 0) return [];
  const lengths = await room.redis.pipeline(
    names.map((n) => ["XLEN", room.keys.mailbox(String(n))]),
  );
  return names.map((n, i) => ({ name: String(n), count: Number(lengths[i]) || 0 }))
    .filter((m) => m.count > 0);
}

/**
 * Removes one agent's presence (absent is fine) and records that it ended now.
 *
 * @param room the room
 * @param agentId the agent
 */
export async function clearPresence(room: Room, agentId: string): Promise<void> {
  await clearAgents(room, [agentId]);
}

async function clearAgents(room: Room, ids: readonly string[]): Promise<void> {
  intReply(
    PRESENCE_CLEAR,
    await room.redis.evalScript(
      PRESENCE_CLEAR,
      [room.keys.presenceIndex, room.keys.presenceEnds, ...ids.map((m) => room.keys.presence(m))],
      [room.config.streamTtlMs, ...ids],
    ),
  );
}

/**
 * Removes every presence entry of a session: the bare token and every id
 * ending in `-<token>`.
 *
 * @param room the room
 * @param token the session token
 * @returns the removed agent ids
 */
export async function clearSessionPresence(room: Room, token: string): Promise<string[]> {
  const session = sanitizeHandle(token);
  if (session === "") return [];
  const members = await room.redis.call(["ZRANGE", room.keys.presenceIndex, 0, -1]) as string[];
  const mine = members.filter((m) => m === session || m.endsWith(`-${session}`));
  if (mine.length === 0) return [];
  await clearAgents(room, mine);
  return mine;
}

/** Whether an agent is present, and since when it is absent. */
export interface HolderPresence {
  /** The agent, or another agent of its session, has live presence. */
  present: boolean;
  /** When present: milliseconds since its (or its session's) latest heartbeat. */
  silentMs?: number;
  /**
   * When absent: milliseconds since its presence (or its session's) ended;
   * `undefined` when it was never seen while the room lived.
   */
  absentMs?: number;
}

/** Presence of record holders, read at one instant of the server clock. */
export interface PresenceView {
  /** Redis server time of the read (Unix ms). */
  now: number;
  /** Presence of one holder: an agent id and, when recorded, its session token. */
  of(holder: { owner: string; session?: string }): HolderPresence;
}

/**
 * Reads the presence of holders (of leases, claims, windows) at once: who is
 * live, and how long the others have been absent ("owner absent 12m").
 * Self is the session: a holder is present while any agent of its recorded
 * session is.
 *
 * @param room the room
 */
export async function presenceView(room: Room): Promise<PresenceView> {
  const [time, index, ends] = await room.redis.pipeline([
    ["TIME"],
    ["ZRANGE", room.keys.presenceIndex, 0, -1, "WITHSCORES"],
    ["HGETALL", room.keys.presenceEnds],
  ]);
  for (const r of [time, index, ends]) if (r instanceof Error) throw r;
  const [sec, usec] = (time as string[]).map(Number);
  const now = sec! * 1000 + Math.floor(usec! / 1000);
  const live = new Map<string, number>();
  const flat = Array.isArray(index) ? index.map(String) : [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const until = flat[i + 1] === "inf" ? Infinity : Number(flat[i + 1]);
    if (until > now) live.set(flat[i]!, until);
  }
  const ttl = room.config.presenceTtlMs;
  const endsOf = new Map<string, number>();
  const pairs = Array.isArray(ends) ? ends.map(String) : [];
  for (let i = 0; i + 1 < pairs.length; i += 2) endsOf.set(pairs[i]!, Number(pairs[i + 1]));
  const ofSession = (id: string, session?: string) =>
    session !== undefined && session !== "" && (id === session || id.endsWith(`-${session}`));
  return {
    now,
    of(holder) {
      const mine = (id: string) => id === holder.owner || ofSession(id, holder.session);
      const until = [...live].filter(([id]) => mine(id)).map(([, at]) => at);
      if (until.length > 0) {
        const latest = Math.max(...until);
        return Number.isFinite(latest)
          ? { present: true, silentMs: Math.max(0, ttl - (latest - now)) }
          : { present: true };
      }
      let last: number | undefined;
      for (const [id, at] of endsOf) {
        if (mine(id) && Number.isFinite(at) && (last === undefined || at > last)) last = at;
      }
      return last === undefined ? { present: false } : {
        present: false,
        absentMs: Math.max(0, now - last),
      };
    },
  };
}

/**
 * `owner absent 12m` for a holder without live presence (`owner absent,
 * never seen` when it was never seen), `""` for a present one.
 *
 * @param p the holder's presence
 */
export function absenceNote(p: HolderPresence | undefined): string {
  if (p === undefined || p.present) return "";
  return p.absentMs === undefined
    ? "owner absent, never seen"
    : `owner absent ${minutes(p.absentMs)}`;
}

/**
 * A coarse duration: `12m`, `2h5m`, or `<1m`.
 *
 * @param ms milliseconds
 */
export function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return "<1m";
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60}m`;
}
