/**
 * `agentroom window request|ack|activate|release|cancel|status`: quiet windows.
 *
 * @module
 */
import { presenceView, refreshPresence, roster } from "../presence.ts";
import { terminalText } from "../sanitize.ts";
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_WINDOW_TTL_MS,
  listWindows,
  type QuietWindow,
  requestWindow,
  windowStatus,
} from "../coordination/windows.ts";
import {
  ackWindow,
  activateWindow,
  cancelWindow,
  releaseWindow,
  type WindowFinishResult,
} from "../coordination/window_lifecycle.ts";
import { listFlag } from "./_args.ts";
import { retryUntil, waitFlags } from "./_wait.ts";
import type { Command, Context } from "./_context.ts";
import {
  conflictJson,
  conflictText,
  durationFlag,
  idArg,
  left,
  liveAgent,
  NotFoundError,
  onlyFlags,
  positionals,
  requiredFlag,
  resourcesArg,
  subcommand,
  windowLine,
} from "./_coord.ts";
import { conflictError, refusedError } from "./errors.ts";
import { formatDuration } from "./_output.ts";

const SUBCOMMANDS = ["request", "ack", "activate", "release", "cancel", "status"] as const;
const FLAGS = ["purpose", "ttl", "ack-timeout", "require", "wait", "timeout"];

/** The window command. */
export const windowCommand: Command = {
  name: "window",
  actions: ["request", "ack", "activate", "release", "cancel", "status"],
  summary: "agree on a quiet window: exclusive use of resources for a while (a migration)",
  usage: "window request <resource>... --purpose P [--ttl 5m] [--ack-timeout 2m] " +
    "[--require AGENT]... | ack|activate|release|cancel <id> | activate <id> --wait " +
    "[--timeout D] | status [<id>] [--json]",
  details: [
    "Subcommands:",
    "  request <resource>...  ask for the window; agents holding overlapping leases and the",
    "                         --require'd agents must acknowledge (they get an inbox notice);",
    "                         with nobody to ask it is active at once",
    "  ack <id>               acknowledge a window you are asked about",
    "  activate <id>          (owner) start it once all acks are in and overlapping leases",
    "                         of others are released; exit 3 says who is outstanding;",
    "                         --wait waits for the acks and releases (woken by the room's",
    "                         events, no polling) up to --timeout (default 10m)",
    "  release <id>           (owner) end an active window",
    "  cancel <id>            (owner) withdraw a pending window",
    "  status [<id>]          one window, or every window of the last 24h",
    "",
    "A pending window blocks new overlapping leases and renewals of overlapping leases of",
    "other agents; an active one keeps every other agent out until it ends (--ttl).",
    "Exit codes: 0 ok, 1 missing/expired/not yours/wrong state, 2 bad input, 3 blocked.",
  ],
  examples: [
    `window request path:src/db db:staging --purpose "run migrations" --require reviewer`,
    "window ack 9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "window activate 9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "window release 9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "window status --json",
  ],
  flags: {
    purpose: { type: "string", value: "TEXT", help: "what the window is for (request; required)" },
    ttl: { type: "string", value: "DURATION", help: "length once active, up to 24h (default 5m)" },
    "ack-timeout": {
      type: "string",
      value: "DURATION",
      help: "time to acknowledge and activate, up to 24h (default 2m)",
    },
    wait: { type: "boolean", help: "activate: wait for acks and releases (no polling)" },
    timeout: {
      type: "string",
      value: "DURATION",
      help: "with --wait: give up after (default 10m)",
    },
    require: {
      type: "string",
      multiple: true,
      value: "AGENT",
      help: "a live agent (id, handle or prefix) that must acknowledge; comma lists work too",
    },
  },
  args: { min: 1, max: Infinity, what: "request|ack|activate|release|cancel|status ..." },
  run: async (ctx) => {
    const { sub, rest } = subcommand(ctx, "window", SUBCOMMANDS);
    if (sub === "request") return await request(ctx, rest);
    if (sub === "status") return await status(ctx, rest);
    onlyFlags(ctx, "window", sub, FLAGS, sub === "activate" ? ["wait", "timeout"] : []);
    positionals("window", sub, rest, 1, 1, "<window-id>");
    const id = idArg("window", "window", rest[0]!);
    if (sub === "ack") return await ack(ctx, id);
    if (sub === "activate") return await activate(ctx, id);
    return await finish(ctx, id, sub);
  },
};

function show(ctx: Context, w: QuietWindow, text: string): void {
  if (ctx.json) ctx.out.json(w);
  else ctx.out.line(text);
}

function pendingText(w: QuietWindow, now: number): string {
  const waiting = w.required.filter((a) => !w.acknowledged.includes(a));
  const leases = w.via_lease.length > 0
    ? `; ${terminalText(w.via_lease.join(", "))} must also release overlapping leases`
    : "";
  return `window ${w.id} is pending: waiting for ${
    waiting.length > 0 ? terminalText(waiting.join(", ")) : "nobody"
  } to acknowledge (deadline in ${left(w.ack_deadline, now)})${leases}; ` +
    `then run 'agentroom window activate ${w.id}'`;
}

async function request(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "window", "request", FLAGS, ["purpose", "ttl", "ack-timeout", "require"]);
  positionals("window", "request", rest, 1, Infinity, "<resource>...");
  const resources = resourcesArg("window", rest);
  const purpose = requiredFlag(ctx, "window", "purpose", `"run migrations"`);
  const ttlMs = durationFlag(ctx, "window", "ttl", DEFAULT_WINDOW_TTL_MS);
  const ackTimeoutMs = durationFlag(ctx, "window", "ack-timeout", DEFAULT_ACK_TIMEOUT_MS);
  const wanted = listFlag(ctx.line.values.require);
  const agent = ctx.identity;
  const room = await ctx.room();
  const live = wanted.length > 0 ? await roster(room) : [];
  const require = wanted.map((raw) => liveAgent("require", raw, live));
  const r = await requestWindow(room, { agent, resources, purpose, ttlMs, ackTimeoutMs, require });
  if (r.outcome === "conflict") {
    const holder = (await presenceView(room)).of({ owner: r.conflict.owner });
    const message = `cannot request window: ${conflictText(r.conflict, agent.agent_id, holder)}`;
    if (ctx.json) ctx.out.json(conflictJson(r.conflict, message, holder));
    throw conflictError(message);
  }
  await refreshPresence(room, agent);
  const w = r.window;
  show(
    ctx,
    w,
    r.outcome === "active"
      ? `window ${w.id} is active on ${terminalText(w.resources.join(", "))} for ${
        formatDuration(w.ttl_ms)
      }; release it with 'agentroom window release ${w.id}'`
      : pendingText(w, w.created_at),
  );
  return 0;
}

async function ack(ctx: Context, id: string): Promise<number> {
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await ackWindow(room, { agent, windowId: id });
  switch (r.outcome) {
    case "missing":
      throw new NotFoundError(`window ${id} not found (unknown, or ended more than 24h ago)`);
    case "expired":
      throw refusedError(`window ${id} is past its ack deadline; nothing to acknowledge`);
    case "state":
      throw refusedError(`window ${id} is ${r.state}, not pending; nothing to acknowledge`);
    case "not_required":
      throw refusedError(
        `window ${id} of ${r.owner} does not require ${agent.agent_id} to acknowledge`,
      );
  }
  await refreshPresence(room, agent);
  const verb = r.already ? "already acknowledged" : "acknowledged";
  const lease = r.window.via_lease.includes(agent.agent_id)
    ? "; release your overlapping leases so it can start"
    : "";
  show(ctx, r.window, `${verb} window ${id} of ${terminalText(r.window.owner)}${lease}`);
  return 0;
}

async function activate(ctx: Context, id: string): Promise<number> {
  const { timeoutMs } = waitFlags(ctx, "window");
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await retryUntil(
    room,
    timeoutMs,
    () => activateWindow(room, { agent, windowId: id }),
    (r) =>
      r.outcome === "acks"
        ? undefined
        : r.outcome === "conflict"
        ? r.conflict.expiresAt - r.conflict.checkedAt
        : false,
  );
  switch (r.outcome) {
    case "missing":
      throw new NotFoundError(`window ${id} not found (unknown, or ended more than 24h ago)`);
    case "expired":
      throw refusedError(
        `window ${id} passed its ack deadline; cancel it and request a new one`,
      );
    case "not_owner":
      throw refusedError(`window ${id} belongs to ${r.owner}, not ${agent.agent_id}`);
    case "state":
      throw refusedError(`window ${id} is ${r.state}, not pending; it cannot be activated`);
    case "acks":
      throw conflictError(
        `cannot activate window ${id}: acknowledgments outstanding from ${
          terminalText(r.outstanding.join(", "))
        } (they were notified in their inbox); try again once they ran 'agentroom window ack ${id}'`,
      );
    case "conflict":
      throw conflictError(
        `cannot activate window ${id}: ${conflictText(r.conflict, agent.agent_id)}`,
      );
  }
  await refreshPresence(room, agent);
  const w = r.window;
  show(
    ctx,
    w,
    `window ${id} is active for ${formatDuration(w.ttl_ms)}; ` +
      `release it with 'agentroom window release ${id}'`,
  );
  return 0;
}

async function finish(ctx: Context, id: string, how: "release" | "cancel"): Promise<number> {
  const agent = ctx.identity;
  const room = await ctx.room();
  const r: WindowFinishResult = how === "release"
    ? await releaseWindow(room, { agent, windowId: id })
    : await cancelWindow(room, { agent, windowId: id });
  switch (r.outcome) {
    case "missing":
      throw new NotFoundError(`window ${id} not found (unknown, or ended more than 24h ago)`);
    case "not_owner":
      throw refusedError(`window ${id} belongs to ${r.owner}, not ${agent.agent_id}`);
    case "state":
      throw refusedError(
        how === "release"
          ? `window ${id} is ${r.state}, not active; cancel a pending window instead`
          : `window ${id} is ${r.state}, not pending; release an active window instead`,
      );
  }
  await refreshPresence(room, agent);
  show(ctx, r.window, `${r.already ? "already " : ""}${r.outcome} window ${id}`);
  return 0;
}

async function status(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "window", "status", FLAGS, []);
  positionals("window", "status", rest, 0, 1, "[<window-id>]");
  const id = rest[0] === undefined ? undefined : idArg("window", "window", rest[0]);
  const room = await ctx.room();
  const now = await room.serverTime();
  if (id !== undefined) {
    const w = await windowStatus(room, id);
    if (!w) throw new NotFoundError(`window ${id} not found (unknown, or ended more than 24h ago)`);
    if (ctx.json) ctx.out.json(w);
    else {
      ctx.out.line(windowLine(w, now));
      ctx.out.line(`  required: ${terminalText(w.required.join(", ")) || "(nobody)"}`);
      ctx.out.line(`  acknowledged: ${terminalText(w.acknowledged.join(", ")) || "(nobody)"}`);
    }
    return 0;
  }
  const windows = await listWindows(room, { all: true });
  if (ctx.json) ctx.out.json({ windows });
  else if (windows.length === 0) ctx.out.line("(no quiet windows in the last 24h)");
  else for (const w of windows) ctx.out.line(windowLine(w, now));
  return 0;
}
