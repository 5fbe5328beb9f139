/**
 * Every Redis key of agentroom is built here. All keys of one room share the
 * hash tag `{<repo>:<branch>}`, so every script of a room runs on one Redis
 * Cluster slot: `ar:{<repo>:<branch>}:<suffix>`.
 *
 * Variable parts (repo, branch, agent, session, task ids) are escaped so they
 * never contain `:`, `{`, `}`, `%`, whitespace or control characters. Fixed
 * keys are single words (`events`, `presence-index`) and variable keys are
 * `<kind>:<escaped>`; so an agent called `index` cannot clobber an index key
 * and no two names produce the same key.
 *
 * @module
 */
import type { RoomCoordinates } from "./config.ts";

/**
 * Escapes one key part: `%`, `:`, `{`, `}`, whitespace and control
 * characters become `%XX` (UTF-8 bytes). Everything else is kept, so common
 * names stay readable.
 *
 * @param part raw text
 * @returns text safe to embed in a key
 */
export function escapeKeyPart(part: string): string {
  // deno-lint-ignore no-control-regex
  return part.replace(/[%:{}\s\u0000-\u001f\u007f-\u009f]/gu, (ch) => {
    let out = "";
    for (const byte of new TextEncoder().encode(ch)) {
      out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  });
}

/** The keys of one room. */
export interface RoomKeys {
  /** The hash-tagged prefix shared by every key of the room (`ar:{repo:branch}`). */
  readonly prefix: string;
  /** The room's event stream. */
  readonly events: string;
  /** Sorted set of live presence ids scored by expiry (ms, server clock). */
  readonly presenceIndex: string;
  /** Hash of event type → id of the newest event of that type (prerequisite gates). */
  readonly typesSeen: string;
  /** Hash of task type → task definition JSON. */
  readonly catalog: string;
  /** Sorted set of not-yet-done task ids, scored by stream time (`ms.seq`). */
  readonly openTasks: string;
  /** Sorted set of claimed task ids, scored by claim expiry (ms, server clock). */
  readonly claims: string;
  /**
   * Hash of claimed task id → its holder: kept after the claim lapses, until
   * the lapse notice is written (the owner key expires with the claim).
   */
  readonly claimOwners: string;
  /** Claim (lease) of one task: its owner, with a TTL. */
  taskOwner(taskId: string): string;
  /** Hash of task id → its priority and tags JSON (set when posted). */
  readonly taskMeta: string;
  /** Hash of done task id → result JSON. */
  readonly done: string;
  /**
   * The room's core keys, in the order every event-writing script takes them
   * first (stream, types-seen, catalog, open tasks, done); they share the
   * room's idle lifetime.
   */
  readonly core: readonly string[];
  /** Sorted set of inbox recipients, scored by inbox expiry (ms, server clock). */
  readonly inboxRecipients: string;
  /** Durable inbox stream of one recipient (a resolved agent id). */
  inbox(recipient: string): string;
  /** Read cursor (last read inbox entry id) of one recipient. */
  inboxCursor(recipient: string): string;
  /** The pinned WELCOME event of the lobby (no expiry). */
  readonly pinnedWelcome: string;
  /** Pending-ask lease of one agent (one open question at a time). */
  pendingAsk(agentId: string): string;
  /**
   * Hash of agent id → when its presence ends or ended (Unix ms, server
   * clock): the expiry its last heartbeat set, or the moment it left. Lives
   * as long as the room; "owner absent 12m" is measured from it.
   */
  readonly presenceEnds: string;
  /**
   * Mailbox (a stream) of a handle or exact agent id with no live agent: what
   * waits there moves into the inbox of the first agent that writes presence
   * under that handle or id.
   */
  mailbox(name: string): string;
  /** Sorted set of mailbox names scored by expiry (ms, server clock). */
  readonly mailboxIndex: string;
  /** Presence record of one agent. */
  presence(agentId: string): string;
  /** Scratchpad entry. */
  scratchpad(name: string): string;
  /** Read cursor of one session. */
  cursor(sessionId: string): string;
  /**
   * Hash of lease id → lease JSON: every lease of the room in one key, so a
   * script can declare it and still reach leases it only finds while running.
   */
  readonly leases: string;
  /** Sorted set of lease ids scored by expiry (ms, server clock). */
  readonly leaseExpiry: string;
  /** Sorted set (all scores 0) of `<resource>\0<lease id>`: the lease resource index. */
  readonly leaseResources: string;
  /** Hash of quiet window id → window JSON (acknowledgments included). */
  readonly windows: string;
  /** Sorted set of pending and active window ids scored by live-until (ms, server clock). */
  readonly windowsLive: string;
  /** Sorted set of window ids scored by when their record is dropped (ms, server clock). */
  readonly windowsKeep: string;
  /**
   * The coordination keys, in the order lease, window and guard scripts take
   * them after the core keys: leases, lease expiry, lease resources, windows,
   * live windows, window retention.
   */
  readonly coordination: readonly string[];
  /** Hash of work status id → current work status JSON. */
  readonly work: string;
  /** Sorted set of work status ids scored by expiry (ms, server clock). */
  readonly workExpiry: string;
  /** Completion receipt of one entry in one consumer group (a worker ran it). */
  receipt(group: string, entryId: string): string;
  /** Hash of entry id → failed attempts of one consumer group. */
  attempts(group: string): string;
  /** Dead-letter stream of one consumer group. */
  deadLetters(group: string): string;
  /** Lock held by the one consumer of a group that sweeps idle pending entries. */
  sweepLock(group: string): string;
}

/**
 * Builds the key set of a room.
 *
 * @param room repo and branch
 * @returns the key builders
 */
export function roomKeys(room: RoomCoordinates): RoomKeys {
  const prefix = `ar:{${escapeKeyPart(room.repo)}:${escapeKeyPart(room.branch)}}`;
  const fixed = (word: string) => `${prefix}:${word}`;
  const variable = (kind: string) => (id: string) => `${prefix}:${kind}:${escapeKeyPart(id)}`;
  return {
    prefix,
    events: fixed("events"),
    presenceIndex: fixed("presence-index"),
    typesSeen: fixed("types-seen"),
    catalog: fixed("catalog"),
    openTasks: fixed("open-tasks"),
    claims: fixed("claims"),
    claimOwners: fixed("claim-owners"),
    taskOwner: (id) => `${prefix}:task:${escapeKeyPart(id)}:owner`,
    done: fixed("done"),
    taskMeta: fixed("task-meta"),
    inboxRecipients: fixed("inbox-recipients"),
    pinnedWelcome: fixed("pinned-welcome"),
    inbox: variable("inbox"),
    inboxCursor: variable("inbox-cursor"),
    pendingAsk: variable("ask"),
    core: ["events", "types-seen", "catalog", "open-tasks", "done"].map(fixed),
    presence: variable("presence"),
    presenceEnds: fixed("presence-ends"),
    mailbox: variable("mailbox"),
    mailboxIndex: fixed("mailbox-index"),
    scratchpad: variable("state"),
    cursor: variable("cursor"),
    leases: fixed("leases"),
    leaseExpiry: fixed("lease-expiry"),
    leaseResources: fixed("lease-resources"),
    windows: fixed("windows"),
    windowsLive: fixed("windows-live"),
    windowsKeep: fixed("windows-keep"),
    coordination: [
      "leases",
      "lease-expiry",
      "lease-resources",
      "windows",
      "windows-live",
      "windows-keep",
    ].map(fixed),
    work: fixed("work"),
    workExpiry: fixed("work-expiry"),
    receipt: (group, id) => `${prefix}:receipt:${escapeKeyPart(group)}:${escapeKeyPart(id)}`,
    attempts: variable("attempts"),
    deadLetters: variable("dead"),
    sweepLock: variable("sweep-lock"),
  };
}

/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384).
 *
 * @param key a Redis key
 * @returns the slot number, 0–16383
 */
export function clusterSlot(key: string): number {
  const bytes = new TextEncoder().encode(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16384;
}
