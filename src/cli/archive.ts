/**
 * `agentroom archive sweep|read|search`: retention of long room streams into
 * JSON Lines files, and reading them back.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { fileSink, readArchive } from "../archive_files.ts";
import { type StreamSweep, sweepArchive } from "../archiver.ts";
import { validateEventType } from "../room.ts";
import { terminalText } from "../sanitize.ts";
import { intFlag, listFlag, parseDuration, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { envValue } from "./_env.ts";
import { onlyFlags, positionals, subcommand } from "./_coord.ts";
import { payloadText } from "./_output.ts";
import { CliError, EXIT } from "./errors.ts";

const SUBS = ["sweep", "read", "search"] as const;
const SWEEP_FLAGS = ["threshold", "keep", "dry-run", "gzip"];
const READ_FLAGS = ["room", "since", "type", "grep", "count"];

/** The archive directory: `--dir`, `AGENTROOM_ARCHIVE_DIR`, else the user's data directory. */
export function archiveDir(ctx: Context): string {
  const raw = ctx.flag("dir") ?? envValue(ctx.env, "AGENTROOM_ARCHIVE_DIR");
  if (raw !== undefined && raw.trim() !== "") return isAbsolute(raw) ? raw : join(ctx.cwd, raw);
  const xdg = envValue(ctx.env, "XDG_DATA_HOME");
  if (xdg) return join(xdg, "agentroom", "archive");
  const home = envValue(ctx.env, "HOME");
  if (home) return join(home, ".local", "share", "agentroom", "archive");
  throw new UsageError(
    "no archive directory: pass --dir D or set AGENTROOM_ARCHIVE_DIR",
    "archive",
  );
}

/** The archive command. */
export const archive: Command = {
  name: "archive",
  summary: "move old events of long room streams to JSON Lines files; read and search them",
  usage:
    "archive sweep [--threshold N] [--keep N] [--dir D] [--gzip] [--dry-run] | archive read [--room R] [--since D] [--type T]… [--grep TEXT] | archive search <text>",
  details: [
    "sweep looks at every room of the Redis: a stream with at least --threshold events (default",
    "10000), or whose idle TTL ends within 6h, has its old events appended to",
    "<dir>/room-<repo:branch>/<day>.jsonl (fsynced) and then deleted by id. The newest --keep",
    "events (default 1000), open and claimed tasks, ASKs younger than a day and events a consumer",
    "group has not been delivered or still holds pending stay. Re-running after a crash only",
    "writes duplicates, which reading skips. <dir>: --dir, AGENTROOM_ARCHIVE_DIR, else",
    "$XDG_DATA_HOME/agentroom/archive or ~/.local/share/agentroom/archive.",
  ],
  examples: [
    "archive sweep --dry-run",
    "archive sweep --threshold 5000 --dir /var/lib/agentroom --gzip",
    "archive read --room api:main --since 7d --type TASK_DONE",
    "archive search 'migration'",
  ],
  flags: {
    dir: { type: "string", value: "D", help: "archive directory" },
    threshold: { type: "string", value: "N", help: "sweep streams with at least N events" },
    keep: { type: "string", value: "N", help: "newest events that stay in Redis (default 1000)" },
    gzip: { type: "boolean", help: "compress the files (.jsonl.gz)" },
    "dry-run": { type: "boolean", help: "count what would be archived; change nothing" },
    room: { type: "string", value: "R", help: "only this room (repo:branch)" },
    since: { type: "string", value: "D", help: "only events newer than D (e.g. 7d)" },
    type: { type: "string", multiple: true, value: "T", help: "only these event types" },
    grep: { type: "string", value: "TEXT", help: "only events containing TEXT" },
    count: { type: "string", value: "N", help: "print at most the last N (default all)" },
  },
  args: { min: 1, max: 2, what: "sweep|read|search [text]" },
  run: async (ctx: Context) => {
    const name = "archive";
    const { sub, rest } = subcommand(ctx, name, SUBS);
    const own = [...SWEEP_FLAGS, ...READ_FLAGS];
    if (sub === "sweep") {
      onlyFlags(ctx, name, sub, own, SWEEP_FLAGS);
      positionals(name, sub, rest, 0, 0, "no arguments");
      return await sweep(ctx);
    }
    onlyFlags(
      ctx,
      name,
      sub,
      own,
      sub === "read" ? READ_FLAGS : READ_FLAGS.filter((f) => f !== "grep"),
    );
    if (sub === "read") positionals(name, sub, rest, 0, 0, "no arguments (filters are flags)");
    else positionals(name, sub, rest, 1, 1, "<text>");
    return await read(ctx, sub === "search" ? rest[0]! : ctx.flag("grep"));
  },
};

async function sweep(ctx: Context): Promise<number> {
  const threshold = intFlag("archive", "threshold", ctx.flag("threshold"), 10_000);
  if (threshold < 1) throw new UsageError("--threshold must be at least 1", "archive");
  const keepRecent = intFlag("archive", "keep", ctx.flag("keep"), 1000);
  const dryRun = ctx.bool("dry-run");
  const dir = archiveDir(ctx);
  const room = await ctx.room();
  const report = (s: StreamSweep) => {
    if (s.reason === "below-threshold" && s.error === undefined) return;
    if (ctx.json) {
      ctx.out.json({
        stream: s.stream.key,
        room: s.stream.room,
        length: s.length,
        archived: s.archived,
        kept: s.kept,
        reason: s.reason,
        dry_run: dryRun,
        ...(s.error === undefined ? {} : { error: String((s.error as Error).message ?? s.error) }),
      });
    } else {
      ctx.out.line(
        `${terminalText(s.stream.room)}: ${s.length} events, ${
          dryRun ? "would archive" : "archived"
        } ${s.archived}, kept ${s.kept} still needed (${s.reason})${
          s.error === undefined
            ? ""
            : ` — error: ${terminalText(String((s.error as Error).message ?? s.error))}`
        }`,
      );
    }
  };
  const result = await sweepArchive(room.redis, fileSink(dir, { gzip: ctx.bool("gzip") }), {
    threshold,
    keepRecent,
    dryRun,
    onStream: report,
  });
  const swept = result.streams.filter((s) => s.reason !== "below-threshold");
  const total = swept.reduce((n, s) => n + s.archived, 0);
  if (!ctx.json) {
    ctx.out.line(
      `${
        dryRun ? "dry run: would archive" : "archived"
      } ${total} events from ${swept.length} of ${result.streams.length} room streams${
        dryRun ? "" : ` into ${dir}`
      }`,
    );
  }
  if (result.errors.length > 0) {
    const first = result.errors[0]!;
    throw new CliError(
      EXIT.failure,
      `${result.errors.length} stream(s) failed, first ${first.stream ?? "SCAN"}: ${
        (first.error as Error).message ?? first.error
      }; nothing was deleted from them beyond what was persisted`,
    );
  }
  return EXIT.ok;
}

async function read(ctx: Context, grep: string | undefined): Promise<number> {
  const sinceText = ctx.flag("since");
  let sinceMs: number | undefined;
  if (sinceText !== undefined) {
    const ms = parseDuration(sinceText);
    if (ms === undefined || ms <= 0) {
      throw new UsageError(
        `--since must be a duration such as 2h or 7d, got ${JSON.stringify(sinceText)}`,
        "archive",
      );
    }
    sinceMs = Date.now() - ms;
  }
  const types = listFlag(ctx.line.values.type);
  for (const type of types) {
    try {
      validateEventType(type);
    } catch (error) {
      throw new UsageError(`--type: ${(error as Error).message}`, "archive");
    }
  }
  if (grep !== undefined && grep.trim() === "") {
    throw new UsageError("the search text is empty", "archive");
  }
  const count = ctx.flag("count") === undefined
    ? Infinity
    : intFlag("archive", "count", ctx.flag("count"), 0);
  const events = await readArchive(archiveDir(ctx), {
    room: ctx.flag("room"),
    sinceMs,
    types,
    grep,
  });
  for (const event of events.slice(Math.max(0, events.length - count))) {
    if (ctx.json) ctx.out.json(event);
    else {
      ctx.out.line(
        `${new Date(event.timestamp).toISOString()} ${terminalText(event.room)} ${event.id} ${
          terminalText(event.type)
        } from ${terminalText(event.agent_id)}: ${terminalText(payloadText(event.payload))}`,
      );
    }
  }
  return EXIT.ok;
}
