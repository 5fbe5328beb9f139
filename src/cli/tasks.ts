/**
 * Task commands: `register`, `catalog`, `open`, `claim`, `done`, `release`,
 * `task`. Contention (lost claim, done task, unmet prerequisite) exits 3.
 *
 * @module
 */
import { decodePayload } from "../codec.ts";
import { NotFoundError } from "../errors.ts";
import { conflictError, refusedError } from "./errors.ts";
import { graceFlag } from "./lease.ts";
import { absenceNote, minutes, presenceJson } from "./_coord.ts";
import { presenceView, refreshPresence } from "../presence.ts";
import { validateStreamId } from "../room.ts";
import { terminalText } from "../sanitize.ts";
import {
  catalog as readCatalog,
  checkPriority,
  checkTags,
  claimTask,
  completeTask,
  DEFAULT_CLAIM_TTL_MS,
  MAX_CLAIM_TTL_MS,
  openTasks,
  registerTask,
  releaseTask,
  stealTask,
  taskState,
} from "../tasks.ts";
import { intFlag, listFlag, parseDuration, UsageError } from "./_args.ts";
import { claimNext } from "../queue.ts";
import { retryUntil, waitFlags } from "./_wait.ts";
import type { Command, Context } from "./_context.ts";
import { eventJson, formatDuration, payloadText } from "./_output.ts";

/** `--priority N` and `--tag T`…, checked before Redis is touched (usage errors). */
export function priorityAndTags(
  ctx: Context,
  command: string,
): { priority?: number; tags?: string[] } {
  const text = ctx.flag("priority");
  let priority: number | undefined;
  try {
    if (text !== undefined) {
      if (!/^-?\d+$/.test(text.trim())) {
        throw new Error(`not a whole number: ${JSON.stringify(text)}`);
      }
      priority = checkPriority(Number(text));
    }
  } catch (error) {
    throw new UsageError(`--priority: ${(error as Error).message}`, command);
  }
  let tags: string[] | undefined;
  try {
    const raw = listFlag(ctx.line.values.tag);
    if (raw.length > 0) tags = checkTags(raw);
  } catch (error) {
    throw new UsageError(`--tag: ${(error as Error).message}`, command);
  }
  return { priority, tags };
}

function taskId(ctx: Context, command: string): string {
  const id = ctx.line.positionals[0]!;
  try {
    return validateStreamId(id);
  } catch {
    throw new UsageError(
      `task id must be a stream id like 1763700000000-0, got ${JSON.stringify(id)}`,
      command,
    );
  }
}

/** `register <type> <description>` */
export const register: Command = {
  name: "register",
  summary: "add or replace a task type in the catalog",
  usage: "register <type> <description> [--produces P] [--requires R] [--prereq TYPE] " +
    "[--priority N] [--tag T]...",
  details: [
    "Events of a registered type are tasks: they appear in 'open' until claimed and done.",
    "Events of that type published before registering become open tasks too.",
    "--prereq TYPE: claims are refused until an event of TYPE has appeared in the room.",
  ],
  examples: [
    `register FIX_TEST "make a failing test pass" --produces "a green test"`,
    `register DEPLOY "deploy to staging" --prereq BUILD_OK`,
  ],
  flags: {
    produces: { type: "string", value: "P", help: "what finishing it produces" },
    requires: { type: "string", value: "R", help: "what it needs" },
    prereq: { type: "string", value: "TYPE", help: "event type that must exist before a claim" },
    priority: { type: "string", value: "N", help: "default priority of its tasks (-1000..1000)" },
    tag: {
      type: "string",
      multiple: true,
      value: "T",
      help: "default tag of its tasks (repeatable)",
    },
  },
  args: { min: 2, max: 2, what: "<type> <description>" },
  run: async (ctx) => {
    const [type, description] = ctx.line.positionals as [string, string];
    const { priority, tags } = priorityAndTags(ctx, "register");
    const room = await ctx.room();
    const backfilled = await registerTask(room, {
      type,
      description,
      produces: ctx.flag("produces"),
      requires: ctx.flag("requires"),
      prereq: ctx.flag("prereq"),
      priority,
      tags,
    });
    if (ctx.json) ctx.out.json({ type, registered: true, backfilled });
    else {
      const extra = backfilled > 0 ? ` (${backfilled} earlier events are now open tasks)` : "";
      ctx.out.line(`registered task type ${type}${extra}`);
    }
    return 0;
  },
};

/** `catalog` */
export const catalog: Command = {
  name: "catalog",
  summary: "list registered task types",
  usage: "catalog [--json]",
  examples: ["catalog", "catalog --json"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const defs = await readCatalog(await ctx.room());
    if (ctx.json) ctx.out.json({ types: defs });
    else if (defs.length === 0) ctx.out.line("(catalog is empty)");
    else {
      for (const d of defs) {
        ctx.out.line(`${terminalText(d.type).padEnd(16)} ${terminalText(d.description)}`);
        const extra = [
          d.produces ? `produces=${terminalText(d.produces)}` : "",
          d.requires ? `requires=${terminalText(d.requires)}` : "",
          d.prereq ? `prereq=${terminalText(d.prereq)}` : "",
          d.priority ? `priority=${d.priority}` : "",
          d.tags && d.tags.length > 0 ? `tags=${terminalText(d.tags.join(","))}` : "",
        ].filter(Boolean).join(" ");
        if (extra) ctx.out.line(`${" ".repeat(17)}${extra}`);
      }
    }
    return 0;
  },
};

/** `open` */
export const open: Command = {
  name: "open",
  summary: "list claimable tasks, newest first",
  usage: "open [--count N] [--json]",
  examples: ["open", "open --count 5 --json"],
  flags: {
    count: { type: "string", short: "n", value: "N", help: "how many (default 50, max 1000)" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const count = intFlag("open", "count", ctx.flag("count"), 50);
    if (count < 1 || count > 1000) {
      throw new UsageError(`--count must be between 1 and 1000, got ${count}`, "open");
    }
    const tasks = await openTasks(await ctx.room(), count);
    if (ctx.json) ctx.out.json({ tasks: tasks.map(eventJson) });
    else if (tasks.length === 0) ctx.out.line("(no open tasks)");
    else {
      for (const t of tasks) {
        ctx.out.line(
          `${t.id}  ${terminalText(t.type).padEnd(16)} ${terminalText(payloadText(t.payload))}`,
        );
      }
    }
    return 0;
  },
};

/** `claim <id>` */
export const claim: Command = {
  name: "claim",
  summary: "claim a task (exactly one agent wins; the claim lapses after --ttl)",
  usage: "claim <task-id> [--ttl 5m] [--force] [--wait [--timeout D]] " +
    "[--steal [--now] [--reason R] [--grace D]] | claim --next [--tag T]... [--ttl 5m] [--wait]",
  details: [
    "Exit 0: you hold the task (claiming your own task again renews it).",
    "Exit 3: someone else holds it, it is done, or its prerequisite is unmet: move on.",
    "Exit 1: no such task.",
    "--steal takes over a task whose holder has no live presence and has been absent longer",
    "than --grace (default: the presence TTL, 15m); --now skips the grace period. Audited",
    "(TASK_STOLEN) and sent to the former holder's inbox; exit 3 while the holder is present",
    "or within the grace period. (--force only skips the prerequisite gate.)",
    "--next: take the highest-priority open task carrying every --tag (FIFO within a priority;",
    "tasks gated by a prerequisite are skipped); racing agents get distinct tasks; exit 3 when",
    "none is left (with --wait: wait for one).",
    "--wait: while the task is held or its prerequisite is unmet, wait (woken by the room's",
    "events or when the claim lapses, no polling) up to --timeout (default 10m), then exit 3.",
  ],
  examples: [
    "claim 1763700000000-0",
    "claim 1763700000000-0 --ttl 30m",
    "claim 1763700000000-0 --force",
    `claim 1763700000000-0 --steal --reason "holder crashed"`,
  ],
  flags: {
    ttl: { type: "string", value: "DURATION", help: "lease length, up to 24h (default 5m)" },
    force: { type: "boolean", help: "skip the prerequisite gate" },
    next: {
      type: "boolean",
      help: "take the highest-priority open task (FIFO within a priority) instead of an id",
    },
    tag: {
      type: "string",
      multiple: true,
      value: "T",
      help: "with --next: only tasks carrying this tag (repeatable: every tag)",
    },
    steal: { type: "boolean", help: "take over the claim of an absent holder" },
    wait: { type: "boolean", help: "wait until the task is free or its prerequisite appears" },
    timeout: {
      type: "string",
      value: "DURATION",
      help: "with --wait: give up after (default 10m)",
    },
    now: { type: "boolean", help: "with --steal: skip the grace period (audited)" },
    reason: { type: "string", value: "TEXT", help: "with --steal: why (sent to the holder)" },
    grace: {
      type: "string",
      value: "DURATION",
      help: "with --steal: how long the holder must be absent (default: the presence TTL)",
    },
  },
  args: { min: 0, max: 1, what: "<task-id>" },
  run: async (ctx) => {
    if (ctx.bool("next")) return await claimNextCommand(ctx);
    if (ctx.line.values.tag !== undefined) {
      throw new UsageError("--tag only applies with --next", "claim");
    }
    if (ctx.line.positionals.length === 0) {
      throw new UsageError("missing argument: claim takes <task-id> (or --next)", "claim");
    }
    const id = taskId(ctx, "claim");
    const ttlText = ctx.flag("ttl");
    const ttlMs = ttlText === undefined ? DEFAULT_CLAIM_TTL_MS : parseDuration(ttlText);
    if (ttlMs === undefined || ttlMs <= 0 || ttlMs > MAX_CLAIM_TTL_MS) {
      throw new UsageError(
        `--ttl must be a duration between 1ms and 24h, got ${JSON.stringify(ttlText)}`,
        "claim",
      );
    }
    const steal = ctx.bool("steal");
    for (const flag of ["now", "reason", "grace"]) {
      if (!steal && ctx.line.values[flag] !== undefined) {
        throw new UsageError(`--${flag} only applies with --steal`, "claim");
      }
    }
    if (steal) {
      if (ctx.bool("wait")) throw new UsageError("--wait does not apply with --steal", "claim");
      return await stealCommand(ctx, id, ttlMs);
    }
    const { timeoutMs } = waitFlags(ctx, "claim");
    const agent = ctx.identity;
    const room = await ctx.room();
    const result = await retryUntil(
      room,
      timeoutMs,
      () => claimTask(room, { taskId: id, agent, ttlMs, force: ctx.bool("force") }),
      (r) => r.outcome === "held" ? r.ttlMs : r.outcome === "prereq" ? undefined : false,
    );
    switch (result.outcome) {
      case "claimed":
      case "renewed":
        await refreshPresence(room, agent);
        if (ctx.json) ctx.out.json({ task_id: id, ...result, owner: agent.agent_id });
        else {ctx.out.line(
            `${result.outcome} task ${id} as ${agent.agent_id} (lease ${formatDuration(ttlMs)})`,
          );}
        return 0;
      case "held": {
        const holder = (await presenceView(room)).of({ owner: result.owner });
        const absent = absenceNote(holder);
        const message = `task ${id} is claimed by ${result.owner} for another ${
          formatDuration(result.ttlMs)
        }${
          absent === ""
            ? "; pick another task"
            : ` (${absent}); take it over with 'agentroom claim ${id} --steal' once the ` +
              "holder has been away longer than the grace period, or pick another task"
        }`;
        if (ctx.json) {
          ctx.out.json({
            conflict: true,
            error: message,
            reason: "held",
            task_id: id,
            holder: result.owner,
            time_left_ms: result.ttlMs,
            holder_presence: presenceJson(holder),
          });
        }
        throw conflictError(message);
      }
      case "done": {
        const message = `task ${id} is already done; pick another task`;
        if (ctx.json) ctx.out.json({ conflict: true, error: message, reason: "done", task_id: id });
        throw conflictError(message);
      }
      case "prereq": {
        const message =
          `task ${id} waits for its prerequisite: no ${result.prereq} event yet (use --force to override)`;
        if (ctx.json) {
          ctx.out.json({
            conflict: true,
            error: message,
            reason: "prereq",
            task_id: id,
            prereq: result.prereq,
          });
        }
        throw conflictError(message);
      }
      case "not_task":
        throw new NotFoundError(`event ${id} is a ${result.type}, not a registered task type`);
      case "unknown":
        throw new NotFoundError(
          `task ${id} not found in room ${room.config.repo}/${room.config.branch}`,
        );
    }
  },
};

async function claimNextCommand(ctx: Context): Promise<number> {
  if (ctx.line.positionals.length > 0) {
    throw new UsageError("claim --next takes no task id", "claim");
  }
  for (const flag of ["steal", "force", "now", "reason", "grace"]) {
    if (ctx.line.values[flag] !== undefined) {
      throw new UsageError(`--${flag} does not apply with --next`, "claim");
    }
  }
  const ttlText = ctx.flag("ttl");
  const ttlMs = ttlText === undefined ? DEFAULT_CLAIM_TTL_MS : parseDuration(ttlText);
  if (ttlMs === undefined || ttlMs <= 0 || ttlMs > MAX_CLAIM_TTL_MS) {
    throw new UsageError(
      `--ttl must be a duration between 1ms and 24h, got ${JSON.stringify(ttlText)}`,
      "claim",
    );
  }
  let tags: string[];
  try {
    tags = checkTags(listFlag(ctx.line.values.tag));
  } catch (error) {
    throw new UsageError(`--tag: ${(error as Error).message}`, "claim");
  }
  const { timeoutMs } = waitFlags(ctx, "claim");
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await retryUntil(
    room,
    timeoutMs,
    () => claimNext(room, { agent, tags, ttlMs }),
    (r) => r.outcome === "empty" ? undefined : false,
  );
  if (r.outcome === "empty") {
    const message =
      `no open task${tags.length > 0 ? ` tagged ${tags.join(", ")}` : ""} to claim; ` +
      "try again later, or wait with --wait";
    if (ctx.json) ctx.out.json({ conflict: true, error: message, reason: "empty", tags });
    throw conflictError(message);
  }
  await refreshPresence(room, agent);
  const t = r.task;
  if (ctx.json) {
    ctx.out.json({
      task_id: t.task.id,
      outcome: "claimed",
      owner: agent.agent_id,
      priority: t.priority,
      tags: t.tags,
      expiresAt: r.expiresAt,
      auditId: r.auditId,
      task: eventJson(t.task),
    });
  } else {
    ctx.out.line(
      `claimed task ${t.task.id} (${terminalText(t.task.type)}, priority ${t.priority}${
        t.tags.length > 0 ? `, tags ${terminalText(t.tags.join(","))}` : ""
      }) as ${agent.agent_id} (lease ${formatDuration(ttlMs)}): ${
        terminalText(payloadText(t.task.payload))
      }`,
    );
  }
  return 0;
}

async function stealCommand(ctx: Context, id: string, ttlMs: number): Promise<number> {
  const reason = ctx.flag("reason") ?? "";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(reason) || Array.from(reason.trim()).length > 500) {
    throw new UsageError("--reason must be one line of at most 500 characters", "claim");
  }
  const graceMs = graceFlag(ctx, "claim");
  const agent = ctx.identity;
  const room = await ctx.room();
  await refreshPresence(room, agent);
  const r = await stealTask(room, {
    taskId: id,
    agent,
    ttlMs,
    reason,
    graceMs,
    now: ctx.bool("now"),
  });
  switch (r.outcome) {
    case "stolen":
      if (ctx.json) {
        ctx.out.json({
          task_id: id,
          outcome: "stolen",
          owner: agent.agent_id,
          former_owner: r.formerOwner,
          expiresAt: r.expiresAt,
          auditId: r.auditId,
        });
      } else {
        ctx.out.line(
          `took over task ${id} from ${terminalText(r.formerOwner)} as ${agent.agent_id} (lease ${
            formatDuration(ttlMs)
          }); ${terminalText(r.formerOwner)} is told in its inbox`,
        );
      }
      return 0;
    case "not_held":
      throw conflictError(`task ${id} is not claimed by anyone; claim it without --steal`);
    case "done":
      throw conflictError(`task ${id} is already done; pick another task`);
    case "own":
      throw refusedError(`task ${id} is already yours; claim it without --steal to renew`);
    case "present":
      throw conflictError(
        `cannot take over task ${id}: its holder ${terminalText(r.owner)} is present; ask them`,
      );
    case "grace":
      throw conflictError(
        `cannot take over task ${id} yet: its holder ${terminalText(r.owner)} has been absent ${
          minutes(r.absentMs)
        }, less than the grace period of ${
          formatDuration(r.graceMs)
        }; wait, or take it at once with --now (audited)`,
      );
  }
}

/** `done <id> [result]` */
export const done: Command = {
  name: "done",
  summary: "mark a task done with an optional result",
  usage: "done <task-id> [result] [--strict]",
  details: [
    "Anyone may complete a task; if another agent holds it you get a warning.",
    "--strict refuses (exit 3) unless you hold the claim.",
  ],
  examples: [`done 1763700000000-0 "fixed in a1b2c3"`, `done 1763700000000-0 '{"pr":42}' --strict`],
  flags: { strict: { type: "boolean", help: "only the claim owner may complete" } },
  args: { min: 1, max: 2, what: "<task-id> [result]" },
  run: async (ctx) => {
    const id = taskId(ctx, "done");
    const result = decodePayload(ctx.line.positionals[1] ?? "");
    const agent = ctx.identity;
    const room = await ctx.room();
    const r = await completeTask(room, { taskId: id, agent, result, strict: ctx.bool("strict") });
    switch (r.outcome) {
      case "completed":
        if (r.previousOwner !== "" && r.previousOwner !== agent.agent_id) {
          ctx.out.warn(
            `task ${id} was claimed by ${r.previousOwner}; completed by ${agent.agent_id}`,
          );
        }
        await refreshPresence(room, agent);
        if (ctx.json) ctx.out.json({ task_id: id, ...r });
        else ctx.out.line(`completed task ${id}`);
        return 0;
      case "done":
        throw conflictError(`task ${id} is already done`);
      case "not_owner":
        throw conflictError(`task ${id} is claimed by ${r.owner}, not you (--strict)`);
      case "not_claimed":
        throw conflictError(`task ${id} is not claimed; claim it first (--strict)`);
      case "not_task":
        throw new NotFoundError(`event ${id} is a ${r.type}, not a registered task type`);
      case "unknown":
        throw new NotFoundError(
          `task ${id} not found in room ${room.config.repo}/${room.config.branch}`,
        );
    }
  },
};

/** `release <id>` */
export const release: Command = {
  name: "release",
  summary: "give a claimed task back before its lease lapses",
  usage: "release <task-id>",
  examples: ["release 1763700000000-0"],
  flags: {},
  args: { min: 1, max: 1, what: "<task-id>" },
  run: async (ctx) => {
    const id = taskId(ctx, "release");
    const agent = ctx.identity;
    const room = await ctx.room();
    const r = await releaseTask(room, { taskId: id, agent });
    if (r.outcome === "not_owner") {
      throw conflictError(`task ${id} is claimed by ${r.owner}, not you`);
    }
    if (r.outcome === "not_held") throw new NotFoundError(`task ${id} is not claimed`);
    await refreshPresence(room, agent);
    if (ctx.json) ctx.out.json({ task_id: id, ...r });
    else ctx.out.line(`released task ${id}`);
    return 0;
  },
};

/** `task <id>` */
export const task: Command = {
  name: "task",
  summary: "show where a task stands: open, claimed (owner, time left) or done (result)",
  usage: "task <task-id> [--json]",
  examples: ["task 1763700000000-0", "task 1763700000000-0 --json"],
  flags: {},
  args: { min: 1, max: 1, what: "<task-id>" },
  run: async (ctx) => {
    const id = taskId(ctx, "task");
    const room = await ctx.room();
    const s = await taskState(room, id);
    if (!s) {
      throw new NotFoundError(
        `task ${id} not found in room ${room.config.repo}/${room.config.branch}`,
      );
    }
    if (ctx.json) {
      ctx.out.json({ ...s, task: s.task ? eventJson(s.task) : null });
      return 0;
    }
    if (s.state === "open") ctx.out.line(`${id}  open`);
    else if (s.state === "claimed") {
      ctx.out.line(`${id}  claimed by ${terminalText(s.owner)} (${formatDuration(s.ttlMs)} left)`);
    } else ctx.out.line(`${id}  done  ${terminalText(payloadText(s.result))}`);
    return 0;
  },
};
