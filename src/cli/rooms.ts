/**
 * `agentroom rooms list|export|drop`: the rooms a Redis holds.
 *
 * @module
 */
import { findRoomStreams } from "../archiver.ts";
import { decodeStreamEntries } from "../codec.ts";
import { NotFoundError } from "../errors.ts";
import { roomKeys } from "../keys.ts";
import type { RedisPort, RedisReply } from "../redis/port.ts";
import { terminalText } from "../sanitize.ts";
import { UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { onlyFlags, positionals, subcommand } from "./_coord.ts";
import { eventJson, formatDuration } from "./_output.ts";
import { CliError, EXIT } from "./errors.ts";

const SUBS = ["list", "export", "drop"] as const;

/** The rooms command. */
export const rooms: Command = {
  name: "rooms",
  summary: "the rooms a Redis holds: list them, export one as JSON Lines, drop one",
  usage: "rooms list | rooms export [repo:branch] | rooms drop <repo:branch> [--yes]",
  details: [
    "export writes every event of the room (default: the current one) to stdout, oldest first.",
    "drop deletes every key of the room (events, presence, tasks, leases, inboxes, scratchpad);",
    "without --yes it asks you to type the room name on stdin. Archive first if you need history.",
  ],
  examples: [
    "rooms list",
    "rooms export api:main > api-main.jsonl",
    "rooms drop old-repo:main --yes",
  ],
  flags: { yes: { type: "boolean", help: "drop without asking" } },
  args: { min: 1, max: 2, what: "list|export|drop [repo:branch]" },
  run: async (ctx: Context) => {
    const name = "rooms";
    const { sub, rest } = subcommand(ctx, name, SUBS);
    onlyFlags(ctx, name, sub, ["yes"], sub === "drop" ? ["yes"] : []);
    if (sub === "list") {
      positionals(name, sub, rest, 0, 0, "no arguments");
      return await list(ctx);
    }
    if (sub === "export") positionals(name, sub, rest, 0, 1, "[repo:branch]");
    else positionals(name, sub, rest, 1, 1, "<repo:branch>");
    const target = rest[0] === undefined ? undefined : parseRoom(rest[0]);
    const room = await ctx.room();
    const keys = target === undefined ? room.keys : roomKeys(target);
    if (sub === "export") return await exportRoom(ctx, room.redis, keys.events);
    return await drop(ctx, room.redis, rest[0]!, keys.prefix);
  },
};

function parseRoom(text: string): { repo: string; branch: string } {
  const cut = text.lastIndexOf(":");
  if (cut <= 0 || cut === text.length - 1) {
    throw new UsageError(`expected a room as repo:branch, got ${JSON.stringify(text)}`, "rooms");
  }
  return { repo: text.slice(0, cut), branch: text.slice(cut + 1) };
}

function unescape(tag: string): string {
  try {
    return decodeURIComponent(tag);
  } catch {
    return tag;
  }
}

async function list(ctx: Context): Promise<number> {
  const room = await ctx.room();
  const redis = room.redis;
  const streams = await findRoomStreams(redis);
  const now = await room.serverTime();
  const rows = [];
  for (const stream of streams) {
    const prefix = stream.key.slice(0, -":events".length);
    const [length, newest, agents] = await redis.pipeline([
      ["XLEN", stream.key],
      ["XREVRANGE", stream.key, "+", "-", "COUNT", 1],
      ["ZCOUNT", `${prefix}:presence-index`, now, "+inf"],
    ]);
    const last = decodeStreamEntries(newest instanceof Error ? [] : newest)[0];
    rows.push({
      room: unescape(stream.room),
      events: Number(length instanceof Error ? 0 : length),
      last_activity: last?.timestamp ?? null,
      agents: Number(agents instanceof Error ? 0 : agents),
    });
  }
  rows.sort((a, b) => (b.last_activity ?? 0) - (a.last_activity ?? 0));
  for (const row of rows) {
    if (ctx.json) ctx.out.json(row);
    else {
      const ago = row.last_activity === null
        ? "never"
        : `${formatDuration(now - row.last_activity)} ago`;
      ctx.out.line(
        `${
          terminalText(row.room)
        }  ${row.events} events  last ${ago}  ${row.agents} agent(s) present`,
      );
    }
  }
  if (!ctx.json && rows.length === 0) ctx.out.line("no rooms in this Redis");
  return EXIT.ok;
}

async function exportRoom(ctx: Context, redis: RedisPort, key: string): Promise<number> {
  let start = "-";
  let total = 0;
  for (;;) {
    const reply = await redis.call(["XRANGE", key, start, "+", "COUNT", 1000]) as RedisReply[];
    if (!Array.isArray(reply) || reply.length === 0) break;
    for (const event of decodeStreamEntries(reply)) ctx.out.json(eventJson(event));
    total += reply.length;
    if (reply.length < 1000) break;
    start = `(${String((reply.at(-1) as RedisReply[])[0])}`;
  }
  if (total === 0) {
    throw new NotFoundError("The room has no events (never used, expired or archived)");
  }
  return EXIT.ok;
}

/** Escapes glob characters for SCAN MATCH. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}

async function drop(
  ctx: Context,
  redis: RedisPort,
  label: string,
  prefix: string,
): Promise<number> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const reply = await redis.call([
      "SCAN",
      cursor,
      "MATCH",
      `${globLiteral(prefix)}:*`,
      "COUNT",
      1000,
    ]) as [string, string[]];
    cursor = String(reply[0]);
    keys.push(...(reply[1] ?? []));
  } while (cursor !== "0");
  if (keys.length === 0) throw new NotFoundError(`No room ${JSON.stringify(label)} in this Redis`);
  if (!ctx.bool("yes")) {
    ctx.io.stderr(
      `drop room ${terminalText(label)} (${keys.length} keys)? type its name to confirm: `,
    );
    const answer = await readLine(ctx);
    if (answer.trim() !== label) {
      throw new CliError(
        EXIT.failure,
        `not confirmed; room ${label} was not dropped (or pass --yes)`,
      );
    }
  }
  for (let i = 0; i < keys.length; i += 500) {
    await redis.call(["UNLINK", ...keys.slice(i, i + 500)]);
  }
  if (ctx.json) ctx.out.json({ room: label, dropped_keys: keys.length });
  else ctx.out.line(`dropped room ${terminalText(label)} (${keys.length} keys)`);
  return EXIT.ok;
}

async function readLine(ctx: Context): Promise<string> {
  const buffer = new Uint8Array(1024);
  let text = "";
  for (;;) {
    const n = await ctx.io.stdin.read(buffer);
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const newline = text.indexOf("\n");
    if (newline !== -1) return text.slice(0, newline);
    if (text.length > 4096) return text;
  }
}
