/**
 * Cold storage for the archiver: JSON Lines files per room and day under a
 * directory, optionally gzip-compressed, fsynced before the archiver deletes
 * anything; and reading them back, de-duplicated by id.
 *
 * Layout: `<dir>/room-<room, URI-encoded>/<YYYY-MM-DD>.jsonl` (or `.jsonl.gz`,
 * one gzip member per batch), the day of each event's timestamp in UTC. Each
 * line is one event: `room`, `id`, `type`, `agent_id`, `agent_handle`,
 * `session_id`, `to`, `reply_to`, `payload`, `timestamp`.
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import type { RoomEvent } from "./codec.ts";
import type { ArchivedStream, PersistBatch } from "./archiver.ts";
import { escapeKeyPart } from "./keys.ts";

/** One archived event as read back. */
export interface ArchivedEvent extends RoomEvent {
  /** The room's hash tag content, `<repo>:<branch>` (key-escaped). */
  room: string;
}

/** Options of {@linkcode fileSink}. */
export interface FileSinkOptions {
  /** Compress (one gzip member per batch appended to the day's `.jsonl.gz`). @default false */
  gzip?: boolean;
}

/**
 * A persist callback writing under `dir`: appends each batch to the day
 * files of its room and fsyncs them before resolving.
 */
export function fileSink(dir: string, options: FileSinkOptions = {}): PersistBatch {
  return async (stream: ArchivedStream, events: RoomEvent[]) => {
    const roomDir = join(dir, roomDirName(stream.room));
    await Deno.mkdir(roomDir, { recursive: true });
    const byDay = new Map<string, string[]>();
    for (const event of events) {
      const day = new Date(event.timestamp).toISOString().slice(0, 10);
      const line = JSON.stringify({ room: stream.room, ...event });
      const lines = byDay.get(day) ?? [];
      lines.push(line);
      byDay.set(day, lines);
    }
    for (const [day, lines] of byDay) {
      const text = new TextEncoder().encode(lines.join("\n") + "\n");
      const path = join(roomDir, `${day}.jsonl${options.gzip ? ".gz" : ""}`);
      const file = await Deno.open(path, { create: true, append: true });
      try {
        const bytes = options.gzip ? new Uint8Array(gzipSync(text)) : text;
        for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
        await file.sync();
      } finally {
        file.close();
      }
    }
  };
}

/** The directory name of a room: never `..`, never a path separator. */
export function roomDirName(room: string): string {
  return `room-${encodeURIComponent(room)}`;
}

/** Filters of {@linkcode readArchive}. */
export interface ArchiveQuery {
  /** Only this room (`<repo>:<branch>`, as in the key, or unescaped). */
  room?: string;
  /** Only events at or after this Unix ms. */
  sinceMs?: number;
  /** Only these types. */
  types?: readonly string[];
  /** Only events whose JSON contains this text (case-insensitive). */
  grep?: string;
}

/**
 * Reads the archive under `dir`, de-duplicated by room and id, oldest first
 * per room. A missing directory is an empty archive.
 */
export async function readArchive(dir: string, query: ArchiveQuery = {}): Promise<ArchivedEvent[]> {
  const out: ArchivedEvent[] = [];
  const seen = new Set<string>();
  const needle = query.grep?.toLowerCase();
  const types = query.types && query.types.length > 0 ? new Set(query.types) : undefined;
  const sinceDay = query.sinceMs === undefined
    ? ""
    : new Date(query.sinceMs).toISOString().slice(0, 10);
  let rooms: string[];
  try {
    rooms = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && entry.name.startsWith("room-")) rooms.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const wanted = query.room === undefined
    ? undefined
    : new Set([roomDirName(query.room), roomDirName(escapeRoom(query.room))]);
  for (const name of rooms.sort()) {
    if (wanted && !wanted.has(name)) continue;
    const files: string[] = [];
    for await (const entry of Deno.readDir(join(dir, name))) {
      if (entry.isFile && /^\d{4}-\d{2}-\d{2}\.jsonl(\.gz)?$/.test(entry.name)) {
        if (entry.name.slice(0, 10) >= sinceDay) files.push(entry.name);
      }
    }
    const events: ArchivedEvent[] = [];
    for (const file of files.sort()) {
      const raw = await Deno.readFile(join(dir, name, file));
      const bytes = file.endsWith(".gz") ? new Uint8Array(gunzipSync(raw)) : raw;
      for (const line of new TextDecoder().decode(bytes).split("\n")) {
        if (line.trim() === "") continue;
        let event: ArchivedEvent;
        try {
          event = JSON.parse(line);
        } catch {
          continue; // a torn last line from a crash mid-write
        }
        const id = `${event.room}\n${event.id}`;
        if (seen.has(id)) continue;
        seen.add(id);
        if (query.sinceMs !== undefined && event.timestamp < query.sinceMs) continue;
        if (types && !types.has(event.type)) continue;
        if (needle && !line.toLowerCase().includes(needle)) continue;
        events.push(event);
      }
    }
    events.sort((a, b) => compareId(a.id, b.id));
    out.push(...events);
  }
  return out;
}

function escapeRoom(room: string): string {
  const cut = room.indexOf(":");
  if (cut === -1) return escapeKeyPart(room);
  return `${escapeKeyPart(room.slice(0, cut))}:${escapeKeyPart(room.slice(cut + 1))}`;
}

function compareId(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
