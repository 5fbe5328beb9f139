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
import { HEARTBEAT, ROSTER } from "./scripts.ts";
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
      room.keys.lastSeen,
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
 * When each agent last wrote presence (Unix ms, server clock), for agents
 * seen while the room lived; agents never seen are absent from the map.
 *
 * @param room the room
 * @param agentIds the agents to look up
 */
export async function lastSeen(
  room: Room,
  agentIds: readonly string[],
): Promise<Map<string, number>> {
  const ids = [...new Set(agentIds)];
  const seen = new Map<string, number>();
  if (ids.length === 0) return seen;
  const reply = await room.redis.call(["HMGET", room.keys.lastSeen, ...ids]);
  if (!Array.isArray(reply)) return seen;
  ids.forEach((id, i) => {
    const value = Number(reply[i]);
    if (typeof reply[i] === "string" && Number.isSafeInteger(value)) seen.set(id, value);
  });
  return seen;
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
 * Removes one agent's presence (absent is fine).
 *
 * @param room the room
 * @param agentId the agent
 */
export async function clearPresence(room: Room, agentId: string): Promise<void> {
  await room.redis.pipeline([
    ["DEL", room.keys.presence(agentId)],
    ["ZREM", room.keys.presenceIndex, agentId],
  ]);
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
  await room.redis.pipeline([
    ...mine.map((m) => ["DEL", room.keys.presence(m)]),
    ["ZREM", room.keys.presenceIndex, ...mine],
  ]);
  return mine;
}
