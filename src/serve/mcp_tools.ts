/**
 * The tools of `agentroom mcp`: each maps its JSON arguments onto one CLI
 * command's parsed line (flag values and positionals, never a command line
 * to parse, so no argument can turn into a flag). The command then runs
 * in-process with `--json`, with the CLI's validation and error lines.
 *
 * @module
 */
import { z } from "zod";
import { WORK_STATES } from "../coordination/shared.ts";

/** A CLI invocation built from a tool's arguments. */
export interface Invocation {
  /** The command name (`post`, `ask`, ...). */
  command: string;
  /** Positional arguments. */
  positionals: string[];
  /** Flag values, as the parser would produce them. */
  values: Record<string, string | boolean | string[] | undefined>;
}

/** How the command's JSON output becomes the tool's structured result. */
export type OutputShape =
  /** one JSON document (or none) */
  | "document"
  /** JSON Lines of events: `{ events: [...] }` */
  | "events";

/** One tool of the server. */
export interface ToolSpec {
  /** Tool name. */
  name: string;
  /** Human title. */
  title: string;
  /** What the tool does, for the model. */
  description: string;
  /** Input schema (zod shape; the SDK publishes it as JSON Schema). */
  input: z.ZodRawShape;
  /** Whether the tool only reads. */
  readOnly: boolean;
  /** The output's shape. */
  output: OutputShape;
  /** Builds the CLI invocation from validated arguments. */
  invoke(args: Record<string, unknown>): Invocation;
}

// ---- argument schemas shared by several tools ----

const duration = (what: string) =>
  z.string().min(1).max(32).describe(`${what}: a duration such as 90s, 10m, 2h`);
const agentRef = z.string().min(1).max(200).describe(
  "a live agent: exact id, unique handle, or unique id prefix",
);
const message = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.unknown()),
  z.record(z.string(), z.unknown()),
]).describe("the message: text, or any JSON value");
const eventId = z.string().min(1).max(64).describe("a room event id like 1763700000000-0");
const resources = z.array(z.string().min(1).max(512)).min(1).max(100).describe(
  "resources as <kind>:<name>, e.g. path:src/db or db:staging",
);
const count = (max: number) => z.number().int().min(1).max(max);

/** The JSON text of a message value, so the CLI stores exactly that value. */
function payloadArg(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): string | undefined {
  return typeof value === "number" ? String(value) : undefined;
}

function bool(value: unknown): boolean | undefined {
  return value === true ? true : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Every tool, in listing order. */
export const TOOLS: readonly ToolSpec[] = [
  {
    name: "send",
    title: "Send a message",
    description:
      "Publish a message to the room (broadcast) or to one agent (`to`, which also lands in " +
      "their durable inbox). `private` (needs `to`) keeps it out of the shared feed: only in " +
      "the recipient's inbox (not confidential: anyone with Redis access can read it). " +
      "`expect_reply` records it in my pending-reply ledger, due `within` (default 10m). " +
      "`type` defaults to NOTE; `reply_to` correlates it with the message it answers.",
    input: {
      message: message.optional(),
      to: agentRef.optional(),
      type: z.string().min(1).max(64).optional().describe("event type, default NOTE"),
      reply_to: eventId.optional(),
      private: z.boolean().optional(),
      expect_reply: z.boolean().optional(),
      within: duration("when the reply is due").optional(),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "post",
      positionals: [str(a.type) ?? "NOTE", payloadArg(a.message)],
      values: {
        to: str(a.to),
        "reply-to": str(a.reply_to),
        private: bool(a.private),
        "expect-reply": bool(a.expect_reply),
        within: str(a.within),
      },
    }),
  },
  {
    name: "inbox",
    title: "Read my inbox",
    description: "Messages addressed to me (directed sends, asks, replies, handoffs). Unread " +
      "ones are marked read; `all` shows the whole inbox without marking.",
    input: { all: z.boolean().optional(), count: count(1000).optional() },
    readOnly: false,
    output: "events",
    invoke: (a) => ({
      command: "inbox",
      positionals: [],
      values: { all: bool(a.all), count: num(a.count) },
    }),
  },
  {
    name: "request",
    title: "Ask an agent and wait for the reply",
    description: "Ask one live agent a question and wait for its correlated reply (default " +
      "timeout 10m, max 24h). On timeout this is an error; the question stays in their inbox.",
    input: { to: agentRef, message, timeout: duration("how long to wait").optional() },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "ask",
      positionals: [payloadArg(a.message)],
      values: { to: str(a.to), timeout: str(a.timeout) },
    }),
  },
  {
    name: "reply",
    title: "Reply to a request",
    description: "Answer an ASK (a `request` from another agent) by its event id; the reply " +
      "is correlated and delivered to the asker's inbox.",
    input: { ask_id: eventId, message },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "reply",
      positionals: [str(a.ask_id) ?? "", payloadArg(a.message)],
      values: {},
    }),
  },
  {
    name: "listen_once",
    title: "Wait for the next message to me",
    description: "Block until the next event addressed to me arrives, or the timeout " +
      "(default 60s) passes (an error).",
    input: { timeout: duration("how long to wait").optional() },
    readOnly: true,
    output: "document",
    invoke: (a) => ({
      command: "wait",
      positionals: [],
      values: { "to-me": true, timeout: str(a.timeout) ?? "60s" },
    }),
  },
  {
    name: "ping",
    title: "Ping an agent's live process",
    description: "Round trip to a live agentroom process of another agent (its MCP server, or " +
      "`agentroom ping --answer`), with the latency; an error when nothing answered within " +
      "the timeout (default 5s, max 60s) — the agent may still be working without one.",
    input: { to: agentRef, timeout: duration("how long to wait").optional() },
    readOnly: true,
    output: "document",
    invoke: (a) => ({
      command: "ping",
      positionals: [str(a.to) ?? ""],
      values: { timeout: str(a.timeout) },
    }),
  },
  {
    name: "pending",
    title: "Replies I still expect",
    description: "My pending-reply ledger: requests and sends with expect_reply that no reply " +
      "has settled yet, each waiting or overdue.",
    input: {},
    readOnly: true,
    output: "document",
    invoke: () => ({ command: "pending", positionals: [], values: {} }),
  },
  {
    name: "who",
    title: "Who is in the room",
    description: "The live roster: agents, their role and what they work on, claim counts. " +
      "Presence is liveness, not attendance.",
    input: { all: z.boolean().optional().describe("also list anonymous entries") },
    readOnly: true,
    output: "document",
    invoke: (a) => ({ command: "who", positionals: [], values: { all: bool(a.all) } }),
  },
  {
    name: "join",
    title: "Say who I am and what I work on",
    description: "Label my presence with a role and what I am working on (published as a " +
      "STATUS event, shown by `who`).",
    input: {
      role: z.string().min(1).max(80).optional(),
      working_on: z.string().min(1).max(160).optional(),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => {
      const payload: Record<string, string> = {};
      if (str(a.role) !== undefined) payload.role = str(a.role)!;
      if (str(a.working_on) !== undefined) payload.working_on = str(a.working_on)!;
      return { command: "post", positionals: ["STATUS", JSON.stringify(payload)], values: {} };
    },
  },
  {
    name: "tail",
    title: "Recent room events",
    description: "The newest events of the room, oldest first, optionally filtered.",
    input: {
      count: count(1000).optional(),
      since: z.string().min(1).max(64).optional().describe("a duration (15m) or an event id"),
      types: z.array(z.string().min(1).max(64)).max(50).optional(),
      from: z.string().min(1).max(200).optional().describe("agent id or handle"),
      to_me: z.boolean().optional(),
    },
    readOnly: true,
    output: "events",
    invoke: (a) => ({
      command: "tail",
      positionals: [],
      values: {
        count: num(a.count),
        since: str(a.since),
        type: a.types === undefined ? undefined : strings(a.types),
        from: str(a.from),
        "to-me": bool(a.to_me),
      },
    }),
  },
  {
    name: "status",
    title: "Room status",
    description: "Live leases, quiet windows, work statuses, open tasks and presence.",
    input: { limit: count(10_000).optional() },
    readOnly: true,
    output: "document",
    invoke: (a) => ({ command: "status", positionals: [], values: { limit: num(a.limit) } }),
  },
  {
    name: "open",
    title: "Claimable tasks",
    description: "Open tasks of the room that nobody has claimed or finished.",
    input: { count: count(1000).optional() },
    readOnly: true,
    output: "document",
    invoke: (a) => ({ command: "open", positionals: [], values: { count: num(a.count) } }),
  },
  {
    name: "claim",
    title: "Claim a task",
    description: "Atomically claim an open task (error with exit 3 when someone else has it).",
    input: {
      task_id: eventId,
      ttl: duration("claim length, default 5m").optional(),
      force: z.boolean().optional().describe("skip the prerequisite gate"),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "claim",
      positionals: [str(a.task_id) ?? ""],
      values: { ttl: str(a.ttl), force: bool(a.force) },
    }),
  },
  {
    name: "done",
    title: "Complete a task",
    description: "Mark a task done, with an optional result.",
    input: {
      task_id: eventId,
      result: message.optional(),
      strict: z.boolean().optional().describe("only the claim owner may complete"),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "done",
      positionals: a.result === undefined
        ? [str(a.task_id) ?? ""]
        : [str(a.task_id) ?? "", payloadArg(a.result)],
      values: { strict: bool(a.strict) },
    }),
  },
  {
    name: "release",
    title: "Release a task",
    description: "Give back a task I claimed.",
    input: { task_id: eventId },
    readOnly: false,
    output: "document",
    invoke: (a) => ({ command: "release", positionals: [str(a.task_id) ?? ""], values: {} }),
  },
  {
    name: "lease_acquire",
    title: "Lease resources",
    description: "Reserve files, folders, databases or services before touching them: every " +
      "resource or none (an error names the holder on a conflict). Default ttl 15m.",
    input: {
      resources,
      purpose: z.string().min(1).max(200),
      ttl: duration("lease length, up to 24h").optional(),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "lease",
      positionals: ["acquire", ...strings(a.resources)],
      values: { purpose: str(a.purpose), ttl: str(a.ttl) },
    }),
  },
  {
    name: "lease_release",
    title: "Release a lease",
    description: "Give back a lease by its id (a lease that already lapsed is fine).",
    input: { lease_id: z.string().min(1).max(64) },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "lease",
      positionals: ["release", str(a.lease_id) ?? ""],
      values: {},
    }),
  },
  {
    name: "guard",
    title: "Check resources before touching them",
    description: "Safe unless another agent's live lease or quiet window overlaps a resource " +
      "(then an error naming the holder). Writes nothing.",
    input: {
      resources,
      lease: z.string().min(1).max(64).optional().describe("the lease I act under"),
      require_held: z.boolean().optional().describe("unsafe unless I hold every resource"),
    },
    readOnly: true,
    output: "document",
    invoke: (a) => ({
      command: "guard",
      positionals: strings(a.resources),
      values: { lease: str(a.lease), "require-held": bool(a.require_held) },
    }),
  },
  {
    name: "work",
    title: "Set my work status",
    description: "Say where a piece of work stands; a handoff needs `to`, the agent taking over.",
    input: {
      state: z.enum(WORK_STATES),
      scope: z.string().min(1).max(200),
      summary: z.string().min(1).max(500),
      to: agentRef.optional(),
      data: z.unknown().optional().describe("any JSON stored with the status"),
      ttl: duration("how long it stays current, default 24h").optional(),
    },
    readOnly: false,
    output: "document",
    invoke: (a) => ({
      command: "work",
      positionals: [str(a.state) ?? ""],
      values: {
        scope: str(a.scope),
        summary: str(a.summary),
        to: str(a.to),
        data: a.data === undefined ? undefined : JSON.stringify(a.data),
        ttl: str(a.ttl),
      },
    }),
  },
];
