/**
 * `agentroom worker`, `agentroom groups` and `agentroom dlq`: shell workers
 * over a consumer group, the groups' progress, and their dead letters.
 *
 * @module
 */
import { RedisUnavailableError } from "../errors.ts";
import { dropDeadLetter, listDeadLetters, listGroups, retryDeadLetter } from "../groups.ts";
import { roomConfig } from "../config.ts";
import { connectRedis } from "../redis/connect.ts";
import type { RedisPort } from "../redis/port.ts";
import { Room, validateEventType, validateStreamId } from "../room.ts";
import { Runtime } from "../runtime.ts";
import { shellWorker } from "../serve/shell_worker.ts";
import { terminalText } from "../sanitize.ts";
import { DAY_MS } from "../limits.ts";
import { isAbsolute, join } from "node:path";
import { intFlag, listFlag, parseDuration, UsageError } from "./_args.ts";
import { envValue } from "./_env.ts";
import type { Command, Context } from "./_context.ts";
import { onlyFlags, positionals, subcommand } from "./_coord.ts";
import { eventJson, formatDuration } from "./_output.ts";
import { CliError, EXIT } from "./errors.ts";

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function groupName(command: string, raw: string | undefined, example: string): string {
  if (raw === undefined || raw.trim() === "") {
    throw new UsageError(`${command} needs --group NAME, e.g. ${example}`, command);
  }
  if (!GROUP_NAME.test(raw)) {
    throw new UsageError(
      `--group must be 1–64 letters, digits, '.', '_' or '-' starting with a letter or digit, got ${
        JSON.stringify(raw)
      }`,
      command,
    );
  }
  return raw;
}

function duration(command: string, flag: string, text: string | undefined, fallback: number) {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > DAY_MS) {
    throw new UsageError(
      `--${flag} must be a duration between 1ms and 24h such as 30s or 5m, got ${
        JSON.stringify(text)
      }`,
      command,
    );
  }
  return ms;
}

/** The worker command. */
export const worker: Command = {
  name: "worker",
  summary: "run a command once per matching event (a shell worker in a consumer group)",
  usage:
    "worker --group G --interest T… [--concurrency N] [--timeout D] [--consumer NAME] -- <command> [args]",
  details: [
    "Each matching event runs <command> with the event's JSON on stdin and its fields in the",
    "environment: AGENTROOM_EVENT_ID, _TYPE, _AGENT, _TO, _REPLY_TO, _TIMESTAMP, _PAYLOAD (JSON),",
    "AGENTROOM_WORKER_GROUP, REPO_ID, BRANCH_NAME. Exit status 0 completes the event; anything else",
    "(or --timeout) fails the attempt: it is retried after --min-idle, and the attempt that reaches",
    "--max-attempts moves the event to the group's dead-letter stream (see 'dlq').",
    "Instances with the same --group share the events; an instance that dies leaves its events to be",
    "reclaimed by the others after --min-idle. Give --consumer a stable name to resume its own",
    "pending events on restart. Ctrl-C or SIGTERM stops it (a running command gets SIGTERM).",
    "The group is created at the room's tail when missing: earlier events are not replayed.",
  ],
  examples: [
    "worker --group linter --interest FILE_CHANGED -- ./lint.sh",
    "worker --group notes --interest '*' --concurrency 4 --timeout 30s -- jq -c .payload",
  ],
  flags: {
    group: { type: "string", value: "G", help: "consumer group (the worker type)" },
    interest: {
      type: "string",
      multiple: true,
      value: "T",
      help: "event type to run on (repeatable or comma-separated; '*' for all)",
    },
    concurrency: { type: "string", value: "N", help: "commands running at once (1–64, default 1)" },
    timeout: { type: "string", value: "D", help: "stop a command after D (SIGTERM, then SIGKILL)" },
    consumer: {
      type: "string",
      value: "NAME",
      help: "this instance's consumer name (default: host and a random suffix)",
    },
    "max-attempts": {
      type: "string",
      value: "N",
      help: "attempts before the dead-letter stream (1–100, default 3)",
    },
    "min-idle": {
      type: "string",
      value: "D",
      help: "idle time before a pending event is reclaimed or retried (default 30s)",
    },
  },
  args: { min: 0, max: Infinity, what: "-- <command> [args]" },
  run: async (ctx: Context) => {
    const name = "worker";
    const group = groupName(name, ctx.flag("group"), "--group linter");
    const interests = listFlag(ctx.line.values.interest);
    if (interests.length === 0) {
      throw new UsageError("worker needs --interest TYPE (or '*' for every event)", name);
    }
    for (const type of interests) {
      if (type === "*") continue;
      try {
        validateEventType(type);
      } catch (error) {
        throw new UsageError(`--interest: ${(error as Error).message}`, name);
      }
    }
    const [command, ...args] = ctx.line.positionals;
    if (command === undefined || command === "") {
      throw new UsageError("worker needs a command after --, e.g. -- ./handle.sh", name);
    }
    const concurrency = intFlag(name, "concurrency", ctx.flag("concurrency"), 1);
    if (concurrency < 1 || concurrency > 64) {
      throw new UsageError(`--concurrency must be between 1 and 64, got ${concurrency}`, name);
    }
    const maxAttempts = intFlag(name, "max-attempts", ctx.flag("max-attempts"), 3);
    if (maxAttempts < 1 || maxAttempts > 100) {
      throw new UsageError(`--max-attempts must be between 1 and 100, got ${maxAttempts}`, name);
    }
    const timeoutMs = duration(name, "timeout", ctx.flag("timeout"), 0);
    const minIdleMs = duration(name, "min-idle", ctx.flag("min-idle"), 30_000);
    const consumerFlag = ctx.flag("consumer");
    if (consumerFlag !== undefined && !GROUP_NAME.test(consumerFlag)) {
      throw new UsageError(
        `--consumer must be 1–64 letters, digits, '.', '_' or '-', got ${
          JSON.stringify(consumerFlag)
        }`,
        name,
      );
    }
    await requireCommand(ctx, command);
    const host = (ctx.io.hostname() ?? "host").replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 40);
    const consumer = consumerFlag ?? `${host}-${crypto.randomUUID().slice(0, 8)}`;

    // A worker outlives Redis restarts: standalone, it uses ioredis with reconnects (commands
    // fail while Redis is away, the runtime retries); in a cluster, the fail-fast adapter.
    const settings = ctx.settings;
    const connect = async (): Promise<RedisPort> => {
      if (settings.cluster) {
        return await connectRedis(settings.endpoint, { transport: "ioredis", cluster: true });
      }
      const { connectIoredis } = await import("../redis/ioredis.ts");
      return await connectIoredis(settings.endpoint, { failFast: false });
    };
    const port = await connect();
    const room = new Room(port, roomConfig({ repo: settings.repo, branch: settings.branch }));
    let reader: RedisPort;
    try {
      reader = await connect();
    } catch (error) {
      await port.close();
      throw error;
    }
    const stop = new AbortController();
    let fatal: unknown;
    const unlisten = ctx.io.onInterrupt(() => stop.abort());
    const log = (text: string) => ctx.io.stderr(`worker: ${terminalText(text)}\n`);
    try {
      const runtime = new Runtime(
        room,
        shellWorker({
          group,
          interests,
          command,
          args,
          cwd: ctx.cwd,
          stdout: ctx.io.stdout,
          stderr: ctx.io.stderr,
        }),
        {
          consumer,
          reader,
          concurrency,
          maxAttempts,
          minIdleMs,
          executeTimeoutMs: timeoutMs,
          onError: (f) => {
            const message = f.error instanceof Error ? f.error.message : String(f.error);
            log(`${f.op}${f.entryId ? ` ${f.entryId}` : ""}: ${message}`);
            if (
              settings.cluster && f.op === "read_group" && f.error instanceof RedisUnavailableError
            ) {
              fatal = f.error;
              stop.abort();
            }
          },
          onReclaim: (ids) => log(`reclaimed ${ids.length} idle event(s): ${ids.join(" ")}`),
          onDeadLetter: (event, deadId) =>
            log(`event ${event.id} (${event.type}) moved to the dead-letter stream as ${deadId}`),
        },
      );
      log(
        `${group}/${consumer} on ${room.config.repo}:${room.config.branch} for ${
          interests.join(",")
        }; Ctrl-C stops`,
      );
      await runtime.listen(stop.signal);
    } finally {
      unlisten();
      await reader.close().catch(() => {});
      await port.close().catch(() => {});
    }
    if (fatal !== undefined) {
      const message = (fatal as Error).message;
      throw new CliError(
        EXIT.failure,
        `${message}; lost the connection to Redis: pending events stay with the group, restart the worker`,
      );
    }
    return EXIT.ok;
  },
};

/** The groups command. */
export const groups: Command = {
  name: "groups",
  summary: "consumer groups of the room: lag, pending, consumers, dead letters",
  usage: "groups",
  examples: ["groups", "groups --json"],
  flags: {},
  args: { min: 0, max: 0, what: "no arguments" },
  run: async (ctx: Context) => {
    const room = await ctx.room();
    const list = await listGroups(room);
    if (ctx.json) {
      for (const g of list) ctx.out.json(g);
      return EXIT.ok;
    }
    if (list.length === 0) {
      ctx.out.line("no consumer groups in this room");
      return EXIT.ok;
    }
    for (const g of list) {
      ctx.out.line(
        `${terminalText(g.name)}  lag ${
          g.lag ?? "?"
        }  pending ${g.pending}  dead ${g.deadLetters}  last ${g.lastDeliveredId}`,
      );
      for (const c of g.consumers) {
        ctx.out.line(
          `  ${terminalText(c.name)}  pending ${c.pending}  idle ${formatDuration(c.idleMs)}`,
        );
      }
    }
    return EXIT.ok;
  },
};

const DLQ_SUBS = ["list", "retry", "drop"] as const;

/** The dlq command. */
export const dlq: Command = {
  name: "dlq",
  summary: "a consumer group's dead letters: list, retry (publish again) or drop",
  usage: "dlq list|retry|drop --group G [DEAD_ID…|--all] [--count N]",
  details: [
    "retry publishes the event again as a new room event (every group whose interests match sees",
    "it) and removes the dead letter; drop deletes it. --all applies to every dead letter of the group.",
  ],
  examples: [
    "dlq list --group linter",
    "dlq retry --group linter 1763700000000-0",
    "dlq drop --group linter --all",
  ],
  flags: {
    group: { type: "string", value: "G", help: "consumer group" },
    all: { type: "boolean", help: "every dead letter of the group (retry, drop)" },
    count: { type: "string", value: "N", help: "list at most N (default 100)" },
  },
  args: { min: 1, max: Infinity, what: "list|retry|drop [DEAD_ID…]" },
  run: async (ctx: Context) => {
    const name = "dlq";
    const { sub, rest } = subcommand(ctx, name, DLQ_SUBS);
    const group = groupName(name, ctx.flag("group"), "--group linter");
    if (sub === "list") {
      onlyFlags(ctx, name, sub, ["all", "count"], ["count"]);
      positionals(name, sub, rest, 0, 0, "no ids");
      const count = intFlag(name, "count", ctx.flag("count"), 100);
      if (count < 1) throw new UsageError("--count must be at least 1", name);
      const letters = await listDeadLetters(await ctx.room(), group, count);
      for (const l of letters) {
        if (ctx.json) {
          ctx.out.json({
            dead_id: l.deadId,
            attempts: l.attempts,
            consumer: l.consumer,
            error: l.error,
            event: eventJson(l.event),
          });
        } else {
          ctx.out.line(
            `${l.deadId}  ${terminalText(l.event.type)} ${l.event.id} from ${
              terminalText(l.event.agent_id)
            }  ${l.attempts} attempt(s)  ${terminalText(errorMessage(l.error))}`,
          );
        }
      }
      if (!ctx.json && letters.length === 0) ctx.out.line(`no dead letters in group ${group}`);
      return EXIT.ok;
    }
    onlyFlags(ctx, name, sub, ["all", "count"], ["all"]);
    const all = ctx.bool("all");
    if (all === (rest.length > 0)) {
      throw new UsageError(`dlq ${sub} takes dead-letter ids or --all (not both)`, name);
    }
    for (const id of rest) {
      try {
        validateStreamId(id);
      } catch (error) {
        throw new UsageError((error as Error).message, name);
      }
    }
    const room = await ctx.room();
    const ids = all ? (await listDeadLetters(room, group, 100_000)).map((l) => l.deadId) : rest;
    let missing = 0;
    for (const id of ids) {
      if (sub === "retry") {
        const newId = await retryDeadLetter(room, group, id);
        if (newId === undefined) missing++;
        else if (ctx.json) ctx.out.json({ dead_id: id, retried_as: newId });
        else ctx.out.line(`retried ${id} as ${newId}`);
      } else {
        const dropped = await dropDeadLetter(room, group, id);
        if (!dropped) missing++;
        else if (ctx.json) ctx.out.json({ dead_id: id, dropped: true });
        else ctx.out.line(`dropped ${id}`);
      }
    }
    if (missing > 0) {
      throw new CliError(
        EXIT.failure,
        `${missing} dead letter(s) not found in group ${group}; run 'agentroom dlq list --group ${group}'`,
      );
    }
    return EXIT.ok;
  },
};

/** Fails before anything is written when `command` cannot be found or run. */
async function requireCommand(ctx: Context, command: string): Promise<void> {
  const candidates = command.includes("/")
    ? [isAbsolute(command) ? command : join(ctx.cwd, command)]
    : (envValue(ctx.env, "PATH") ?? "").split(":").filter((d) => d !== "").map((d) =>
      join(d, command)
    );
  for (const path of candidates) {
    try {
      const info = await Deno.stat(path);
      if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return;
    } catch { /* not there */ }
  }
  throw new CliError(
    EXIT.failure,
    `cannot run ${JSON.stringify(command)}: ${
      command.includes("/") ? "no such executable file" : "not found on PATH"
    }`,
  );
}

function errorMessage(json: string): string {
  try {
    const parsed = JSON.parse(json);
    if (parsed && typeof parsed.message === "string") return parsed.message;
  } catch { /* stored as text */ }
  return json;
}
