/**
 * `agentroom daemon`: archive sweeps, stall sweeps and lapse notices on
 * intervals, one daemon per Redis (see `serve/daemon.ts`).
 *
 * @module
 */
import { findRoomStreams } from "../archiver.ts";
import { roomConfig } from "../config.ts";
import { sweepLapses } from "../coordination/lapses.ts";
import { Room } from "../room.ts";
import { fileSink } from "../archive_files.ts";
import { connectRedis } from "../redis/connect.ts";
import type { RedisPort } from "../redis/port.ts";
import { runDaemon } from "../serve/daemon.ts";
import { terminalText } from "../sanitize.ts";
import { intFlag, parseDuration, UsageError } from "./_args.ts";
import { archiveDir } from "./archive.ts";
import type { Command, Context } from "./_context.ts";
import { EXIT } from "./errors.ts";

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * The lapse-notice sweep of every room on this Redis: for each room stream,
 * `sweepLapses` writes the one notice each lapsed lease, window or claim is
 * owed (to its former owner). A room whose name cannot be read is skipped.
 */
export const LAPSE_NOTICE_SWEEP = async (redis: RedisPort, signal: AbortSignal): Promise<void> => {
  for (const stream of await findRoomStreams(redis)) {
    if (signal.aborted) return;
    const cut = stream.room.indexOf(":");
    if (cut <= 0) continue;
    let room: Room;
    try {
      room = new Room(
        redis,
        roomConfig({
          repo: decodePart(stream.room.slice(0, cut)),
          branch: decodePart(stream.room.slice(cut + 1)),
        }),
      );
    } catch {
      continue;
    }
    await sweepLapses(room);
  }
};

function every(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 100 || ms > 7 * 86_400_000) {
    throw new UsageError(
      `--${flag} must be a duration between 100ms and 7d such as 30s or 1h, got ${
        JSON.stringify(text)
      }`,
      "daemon",
    );
  }
  return ms;
}

/** The daemon command. */
export const daemon: Command = {
  name: "daemon",
  summary:
    "upkeep of this Redis: archive sweeps, stalled-event sweeps, lapse notices (one per Redis)",
  usage:
    "daemon [--dir D] [--gzip] [--threshold N] [--keep N] [--archive-every D] [--stall-every D] [--stall-idle D] [--max-deliveries N] [--no-archive]",
  details: [
    "Every --archive-every (1h) it runs 'archive sweep' into --dir; every --stall-every (60s) it",
    "moves consumer-group events that were delivered --max-deliveries (10) times and idle for",
    "--stall-idle (5m) to their dead-letter stream (a poison event that kills its worker).",
    "A second daemon on the same Redis waits for the first one's lock. Ctrl-C or SIGTERM stops it.",
  ],
  examples: ["daemon", "daemon --dir /var/lib/agentroom --gzip --archive-every 15m"],
  flags: {
    dir: { type: "string", value: "D", help: "archive directory" },
    gzip: { type: "boolean", help: "compress archive files" },
    threshold: { type: "string", value: "N", help: "archive streams with at least N events" },
    keep: { type: "string", value: "N", help: "newest events kept in Redis per stream" },
    "archive-every": { type: "string", value: "D", help: "between archive sweeps (default 1h)" },
    "stall-every": { type: "string", value: "D", help: "between stall sweeps (default 60s)" },
    "stall-idle": { type: "string", value: "D", help: "idle time of a stalled event (default 5m)" },
    "max-deliveries": {
      type: "string",
      value: "N",
      help: "deliveries of a stalled event (default 10)",
    },
    "no-archive": { type: "boolean", help: "do not archive (stall sweeps and notices only)" },
  },
  args: { min: 0, max: 0, what: "no arguments" },
  run: async (ctx: Context) => {
    const threshold = intFlag("daemon", "threshold", ctx.flag("threshold"), 10_000);
    if (threshold < 1) throw new UsageError("--threshold must be at least 1", "daemon");
    const keepRecent = intFlag("daemon", "keep", ctx.flag("keep"), 1000);
    const maxDeliveries = intFlag("daemon", "max-deliveries", ctx.flag("max-deliveries"), 10);
    if (maxDeliveries < 1) throw new UsageError("--max-deliveries must be at least 1", "daemon");
    const archiveIntervalMs = every("archive-every", ctx.flag("archive-every"), 3_600_000);
    const stallIntervalMs = every("stall-every", ctx.flag("stall-every"), 60_000);
    const stallIdleMs = every("stall-idle", ctx.flag("stall-idle"), 300_000);
    const noArchive = ctx.bool("no-archive");
    if (noArchive && (ctx.flag("dir") !== undefined || ctx.bool("gzip"))) {
      throw new UsageError("--no-archive excludes --dir and --gzip", "daemon");
    }
    const dir = noArchive ? undefined : archiveDir(ctx);
    // Like a worker, the daemon outlives Redis restarts when standalone (ioredis reconnects).
    const settings = ctx.settings;
    const redis = settings.cluster
      ? await connectRedis(settings.endpoint, { transport: "ioredis", cluster: true })
      : await (await import("../redis/ioredis.ts")).connectIoredis(settings.endpoint, {
        failFast: false,
      });
    const stop = new AbortController();
    const unlisten = ctx.io.onInterrupt(() => stop.abort());
    const log = (line: string) => ctx.io.stderr(`daemon: ${terminalText(line)}\n`);
    if (dir !== undefined) log(`archiving into ${dir}`);
    try {
      await runDaemon({
        redis,
        persist: dir === undefined ? undefined : fileSink(dir, { gzip: ctx.bool("gzip") }),
        threshold,
        keepRecent,
        archiveIntervalMs,
        stallIntervalMs,
        stallIdleMs,
        maxDeliveries,
        lapseNotices: LAPSE_NOTICE_SWEEP,
        log,
      }, stop.signal);
    } finally {
      unlisten();
      await redis.close().catch(() => {});
    }
    return EXIT.ok;
  },
};
