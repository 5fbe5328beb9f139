/**
 * `agentroom dashboard`: serves the live room page (see
 * `src/serve/dashboard/`). The server is imported only when the command
 * runs, so no other command (and never the hook path) loads it.
 *
 * @module
 */
import { connectRedis } from "../redis/connect.ts";
import { resolveIdentity, sanitizeHandle } from "../identity.ts";
import { InvalidValueError } from "../errors.ts";
import { intFlag, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { envValue } from "./_env.ts";

/** The human's handle: `--agent`/`AGENTROOM_AGENT`, else `human-<USER>`. */
export function humanHandle(ctx: Context): string {
  const given = ctx.flag("agent") ?? envValue(ctx.env, "AGENTROOM_AGENT");
  if (given) return given;
  const user = envValue(ctx.env, "USER") ?? envValue(ctx.env, "USERNAME") ?? "user";
  return sanitizeHandle(`human-${user}`) || "human";
}

/** The dashboard command. */
export const dashboard: Command = {
  name: "dashboard",
  summary: "serve a live page of the room for the humans running the agents",
  usage: "dashboard [--port P] [--room R] [--host H] [--open]",
  details: [
    "Prints a URL with a random access token and serves the page until interrupted. It shows",
    "who is here, leases and quiet windows with countdowns, tasks, the event feed (filters,",
    "search, threads) and the lobby, live. From the page you can post a note or a directed",
    "message, answer an ask addressed to you and break a stale lease, each as an audited event",
    "under your handle (--agent, AGENTROOM_AGENT, else human-<USER>).",
    "--room takes repo or repo/branch (default: the current room). Binds 127.0.0.1 unless --host",
    "is given; every request needs the token. --open starts the desktop's browser (xdg-open).",
  ],
  examples: ["dashboard", "dashboard --open", "dashboard --room api/main --port 8377"],
  flags: {
    port: { type: "string", value: "P", help: "port to listen on (default: any free port)" },
    room: { type: "string", value: "R", help: "room shown first: repo or repo/branch" },
    host: { type: "string", value: "H", help: "address to bind (default 127.0.0.1)" },
    open: { type: "boolean", help: "open the page in the desktop's browser" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const port = intFlag("dashboard", "port", ctx.flag("port"), 0);
    if (port > 65535) throw new UsageError(`--port must be 0–65535, got ${port}`, "dashboard");
    const host = ctx.flag("host") ?? "127.0.0.1";
    if (host.trim() === "" || /[\s/]/.test(host)) {
      throw new UsageError(`--host must be an address, got ${JSON.stringify(host)}`, "dashboard");
    }
    const server = await import("../serve/dashboard/server.ts");
    let room;
    const roomFlag = ctx.flag("room");
    try {
      room = roomFlag !== undefined
        ? server.parseRoomName(roomFlag)
        : { repo: ctx.settings.repo, branch: ctx.settings.branch };
    } catch (error) {
      if (error instanceof InvalidValueError) throw new UsageError(error.message, "dashboard");
      throw error;
    }
    const settings = ctx.settings;
    const human = resolveIdentity(humanHandle(ctx), settings.token);
    let running;
    try {
      running = server.startDashboard({
        connect: () =>
          connectRedis(settings.endpoint, {
            transport: settings.transport,
            cluster: settings.cluster,
          }),
        room,
        human,
        host,
        port,
        log: (line) => ctx.out.warn(line),
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new InvalidValueError(`cannot listen on ${host}:${port}: ${why}`);
    }
    const stop = () => void running.shutdown();
    const unlisten = ctx.io.onInterrupt(stop);
    try {
      if (ctx.json) {
        ctx.out.json({ url: running.url, port: running.port, room: `${room.repo}/${room.branch}` });
      } else {
        ctx.out.line(
          `dashboard for ${room.repo}/${room.branch} as ${human.handle}: ${running.url}`,
        );
        if (!server.LOOPBACK.includes(host)) {
          ctx.out.warn(
            `listening on ${host}: anyone who can reach it and has the URL can act as you`,
          );
        }
      }
      if (ctx.bool("open")) {
        const { openBrowser } = await import("../serve/dashboard/open.ts");
        const failed = await openBrowser(running.url);
        if (failed) ctx.out.warn(`could not open a browser (${failed}); open the URL above`);
      }
      await running.finished;
    } finally {
      unlisten();
    }
    return 0;
  },
};
