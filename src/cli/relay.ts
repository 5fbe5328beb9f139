/**
 * `agentroom relay --tmux <target>`: delivery for harnesses without hooks.
 * Types each new message addressed to this agent into a tmux pane as one
 * line, `[from <agent> @ <HH:MM>] <type>: <text>`, with newlines, escape
 * sequences and every other control, bidi or zero-width character
 * neutralised, so a message can never become a second command. It refuses a
 * pane whose foreground process is a shell (the line would run as a
 * command) unless `--allow-shell`, and holds delivery while the pane shows a
 * half-typed prompt, retrying later (`--force` overrides the hold only).
 *
 * @module
 */
import type { RoomEvent } from "../codec.ts";
import { eventSummary } from "../fence.ts";
import { type InboxEntry, markInboxRead, unreadInbox } from "../inbox.ts";
import { refreshPresence } from "../presence.ts";
import { paneCommand, paneText, type TmuxServer, typeLine } from "../process/tmux.ts";
import type { Room } from "../room.ts";
import { clip, oneLine } from "../sanitize.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { CliError, EXIT, refusedError } from "./errors.ts";

/** Longest line typed into a pane, in characters. */
export const MAX_RELAY_LINE = 400;

/** Foreground commands that are shells: a typed line would run as a command. */
const SHELLS = /^-?(?:ba|z|da|k|mk|tc|c|fi|y|o)?sh$|^(?:fish|nu|pwsh|powershell|xonsh|elvish)$/;

/**
 * Whether a pane's foreground command is a shell.
 *
 * @param command `#{pane_current_command}`
 */
export function isShell(command: string): boolean {
  return SHELLS.test(command.trim());
}

/**
 * Whether the pane shows a half-typed prompt: its last non-blank line, with
 * box-drawing borders removed, is a prompt marker (`>`, `❯`, `›`, `$`, `%`)
 * followed by text. A human (or an agent) is in the middle of typing there.
 *
 * @param text what the pane shows (capture-pane)
 */
export function halfTyped(text: string): boolean {
  const lines = text.split("\n").map((l) => l.replace(/[│┃╭╮╰╯─━|]/g, "").trim());
  const last = lines.filter((l) => l !== "").at(-1) ?? "";
  return /^(?:>|❯|›|\$|%)\s*\S/.test(last);
}

/**
 * The one line typed for an event: a sender tag, then the text flattened to
 * one line with every control, escape, bidi and zero-width character
 * removed, clipped to {@linkcode MAX_RELAY_LINE}.
 *
 * @param event the message
 * @param at the time to show (Unix ms)
 */
export function relayLine(event: RoomEvent, at = event.timestamp): string {
  const time = new Date(at).toISOString().slice(11, 16);
  const payload = eventSummary(event) ??
    (typeof event.payload === "string" ? event.payload : JSON.stringify(event.payload));
  const text = oneLine(`[from ${event.agent_id || "?"} @ ${time}] ${event.type}: ${payload}`)
    .replace(/\s+/g, " ")
    .trim();
  return clip(text, MAX_RELAY_LINE);
}

/** The relay command. */
export const relay: Command = {
  name: "relay",
  summary: "type messages addressed to you into a tmux pane (harnesses without hooks)",
  usage: "relay --tmux <target> [--socket NAME] [--allow-shell] [--force] [--once] [--interval D]",
  details: [
    "Each new message addressed to you (your inbox) is typed into the tmux pane <target> as one",
    "line, '[from <agent> @ <HH:MM>] <type>: <text>', then Enter; newlines, escapes and other",
    "control, bidi or zero-width characters are removed, so a message is never a second command.",
    "A pane running a shell is refused (the line would run as a command) unless --allow-shell.",
    "While the pane shows a half-typed prompt, delivery is held and retried every --interval",
    "(default 2s); --force types anyway. --once delivers what waits and exits (exit 3 when a",
    "message was held). Run it with the same AGENTROOM_AGENT/AGENTROOM_SESSION_ID as the agent",
    "in the pane, so it reads that agent's inbox. Needs tmux on PATH.",
  ],
  examples: [
    "relay --tmux agents:0.1",
    "AGENTROOM_AGENT=builder AGENTROOM_SESSION_ID=b1 agentroom relay --tmux %3",
    "relay --tmux work:2 --once",
  ],
  flags: {
    tmux: { type: "string", value: "TARGET", help: "the tmux pane (session:window.pane or %id)" },
    socket: { type: "string", value: "NAME", help: "tmux server socket name (tmux -L)" },
    "allow-shell": { type: "boolean", help: "type into a pane whose foreground is a shell" },
    force: { type: "boolean", help: "type even while the pane shows a half-typed prompt" },
    once: { type: "boolean", help: "deliver what waits, then exit" },
    interval: { type: "string", value: "D", help: "retry held messages after this (default 2s)" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const target = ctx.flag("tmux");
    if (target === undefined || target.trim() === "") {
      throw new UsageError("relay needs --tmux <target> (e.g. agents:0.1 or %3)", "relay");
    }
    const intervalText = ctx.flag("interval") ?? "2s";
    const interval = parseDuration(intervalText);
    if (interval === undefined || interval < 100 || interval > 60_000) {
      throw new UsageError(
        `--interval must be a duration from 100ms to 1m, got ${JSON.stringify(intervalText)}`,
        "relay",
      );
    }
    const server: TmuxServer = { socketName: ctx.flag("socket") };
    const options = {
      server,
      target,
      allowShell: ctx.bool("allow-shell"),
      force: ctx.bool("force"),
    };
    const room = await ctx.room();
    if (ctx.bool("once")) {
      const { held } = await deliver(ctx, room, options);
      return held ? EXIT.conflict : EXIT.ok;
    }
    return await loop(ctx, room, options, interval);
  },
};

interface RelayOptions {
  server: TmuxServer;
  target: string;
  allowShell: boolean;
  force: boolean;
}

/** Types every unread message it may now; stops at the first one it must hold. */
async function deliver(
  ctx: Context,
  room: Room,
  options: RelayOptions,
): Promise<{ held: boolean }> {
  const recipient = ctx.identity.agent_id;
  // the relay speaks for the agent in the pane: its presence moves waiting mailbox
  // messages into the inbox and keeps the agent present while the relay runs
  await refreshPresence(room, ctx.identity);
  const entries: InboxEntry[] = await unreadInbox(room, { recipient, count: 100 });
  for (const entry of entries) {
    const command = await paneCommand(options.server, options.target);
    if (isShell(command) && !options.allowShell) {
      throw refusedError(
        `tmux pane ${options.target} runs a shell (${command}): a typed message would run as a ` +
          "command; point --tmux at the agent's pane, or pass --allow-shell",
      );
    }
    if (!options.force && halfTyped(await paneText(options.server, options.target))) {
      ctx.out.line(`held: pane ${options.target} shows a half-typed prompt; retrying later`);
      return { held: true };
    }
    await typeLine(options.server, options.target, relayLine(entry.event));
    await markInboxRead(room, { recipient, inboxId: entry.inbox_id });
    ctx.out.line(`delivered ${entry.event.id} from ${oneLine(entry.event.agent_id)}`);
  }
  return { held: false };
}

/** Delivers, then waits for the room's next event (or the retry interval), until interrupted. */
async function loop(
  ctx: Context,
  room: Room,
  options: RelayOptions,
  interval: number,
): Promise<number> {
  let stopping = false;
  const unlisten = ctx.io.onInterrupt(() => {
    stopping = true;
    room.redis.close();
  });
  try {
    let cursor = await room.lastId();
    while (!stopping) {
      await deliver(ctx, room, options);
      try {
        const events = await room.waitForEvents(cursor, { blockMs: interval, count: 100 });
        cursor = events.at(-1)?.id ?? cursor;
      } catch (error) {
        if (stopping) break;
        throw error;
      }
    }
    return EXIT.ok;
  } catch (error) {
    if (stopping && !(error instanceof CliError)) return EXIT.ok;
    throw error;
  } finally {
    unlisten();
  }
}
