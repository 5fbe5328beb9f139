/**
 * `agentroom lease acquire|renew|release|list`: resource leases.
 *
 * @module
 */
import {
  acquireLease,
  breakLease,
  DEFAULT_LEASE_TTL_MS,
  listLeases,
  releaseLease,
  renewLease,
} from "../coordination/leases.ts";
import { presenceView, refreshPresence } from "../presence.ts";
import { parseDuration, UsageError } from "./_args.ts";
import { terminalText } from "../sanitize.ts";
import { sweepLapses } from "../coordination/lapses.ts";
import { retryUntil, waitFlags } from "./_wait.ts";
import type { Command, Context } from "./_context.ts";
import {
  conflictJson,
  conflictText,
  durationFlag,
  idArg,
  leaseLine,
  minutes,
  NotFoundError,
  onlyFlags,
  positionals,
  presenceJson,
  requiredFlag,
  resourcesArg,
  subcommand,
} from "./_coord.ts";
import { conflictError, refusedError } from "./errors.ts";
import { formatDuration } from "./_output.ts";

const SUBCOMMANDS = ["acquire", "renew", "release", "break", "list"] as const;
const FLAGS = ["purpose", "ttl", "reason", "now", "grace", "wait", "timeout"];

/** The lease command. */
export const lease: Command = {
  name: "lease",
  actions: ["acquire", "renew", "release", "list"],
  summary: "reserve files, folders, databases or services before touching them",
  usage: "lease acquire <resource>... --purpose P [--ttl 15m] | renew <id> [--ttl 15m] | " +
    "release <id> | break <id> --reason R [--now] [--grace D] | list [--json]",
  details: [
    "Subcommands:",
    "  acquire <resource>...  lease every resource or none; exit 3 names the holder on a conflict;",
    "                         --wait retries when the room changes (a release, a break) or the",
    "                         holder's lease lapses, up to --timeout (default 10m), then exits 3",
    "  renew <id>             extend your lease to now + --ttl (refused while a pending quiet",
    "                         window of another agent overlaps it: release instead)",
    "  release <id>           give it back (a lease that already lapsed is fine)",
    "  break <id>             end the lease of an owner with no live presence (neither it nor",
    "                         any agent of its session) absent longer than --grace (default:",
    "                         the presence TTL, 15m); --now skips the grace period. Audited",
    "                         (LEASE_BROKEN) and sent to the former owner's inbox",
    "  list                   live leases, soonest expiry first; absent owners are marked",
    "",
    "Resources are <kind>:<name>. path:<dir/or/file> names a repository-relative path;",
    "a directory lease covers everything below it (path:src/db conflicts with",
    "path:src/db/schema.sql, not with path:src/dbx). Other kinds (db:main, service:api)",
    "conflict only when equal. Leases lapse after --ttl (default 15m, max 24h).",
    "",
    "Exit codes: 0 ok, 1 lease missing/expired or not yours (break: your own), 2 bad input,",
    "3 conflict (break: the owner is present or within the grace period).",
  ],
  examples: [
    `lease acquire path:src/db db:staging --purpose "schema migration" --ttl 30m`,
    "lease renew 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b --ttl 30m",
    "lease release 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b",
    `lease break 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b --reason "owner crashed mid-migration"`,
    "lease list --json",
  ],
  flags: {
    purpose: { type: "string", value: "TEXT", help: "what the lease is for (acquire; required)" },
    ttl: { type: "string", value: "DURATION", help: "lease length, up to 24h (default 15m)" },
    reason: { type: "string", value: "TEXT", help: "why you break it (break; required)" },
    wait: { type: "boolean", help: "acquire: wait until the resources are free (no polling)" },
    timeout: {
      type: "string",
      value: "DURATION",
      help: "with --wait: give up after (default 10m)",
    },
    now: { type: "boolean", help: "break without waiting for the grace period (break)" },
    grace: {
      type: "string",
      value: "DURATION",
      help: "how long the owner must be absent (break; default: the presence TTL)",
    },
  },
  args: { min: 1, max: Infinity, what: "acquire|renew|release|list ..." },
  run: async (ctx) => {
    const { sub, rest } = subcommand(ctx, "lease", SUBCOMMANDS);
    switch (sub) {
      case "acquire":
        return await acquire(ctx, rest);
      case "renew":
        return await renew(ctx, rest);
      case "release":
        return await release(ctx, rest);
      case "break":
        return await breakCommand(ctx, rest);
      case "list":
        return await list(ctx, rest);
    }
  },
};

async function acquire(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "acquire", FLAGS, ["purpose", "ttl", "wait", "timeout"]);
  positionals("lease", "acquire", rest, 1, Infinity, "<resource>...");
  const resources = resourcesArg("lease", rest);
  const purpose = requiredFlag(ctx, "lease", "purpose", `"schema migration"`);
  const ttlMs = durationFlag(ctx, "lease", "ttl", DEFAULT_LEASE_TTL_MS);
  const { timeoutMs } = waitFlags(ctx, "lease");
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await retryUntil(
    room,
    timeoutMs,
    () => acquireLease(room, { agent, resources, purpose, ttlMs }),
    (r) => r.outcome === "conflict" ? r.conflict.expiresAt - r.conflict.checkedAt : false,
  );
  if (r.outcome === "conflict") {
    const holder = (await presenceView(room)).of({ owner: r.conflict.owner });
    const message = `cannot acquire lease: ${conflictText(r.conflict, agent.agent_id, holder)}`;
    if (ctx.json) ctx.out.json(conflictJson(r.conflict, message, holder));
    throw conflictError(message);
  }
  await refreshPresence(room, agent);
  if (ctx.json) ctx.out.json(r.lease);
  else {
    ctx.out.line(
      `acquired lease ${r.lease.id} on ${terminalText(resources.join(", "))} for ${
        formatDuration(ttlMs)
      }`,
    );
  }
  return 0;
}

async function renew(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "renew", FLAGS, ["ttl"]);
  positionals("lease", "renew", rest, 1, 1, "<lease-id>");
  const id = idArg("lease", "lease", rest[0]!);
  const ttlMs = durationFlag(ctx, "lease", "ttl", DEFAULT_LEASE_TTL_MS);
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await renewLease(room, { agent, leaseId: id, ttlMs });
  switch (r.outcome) {
    case "missing":
      throw new NotFoundError(
        `lease ${id} expired or was released; acquire the resources again with 'agentroom lease acquire'`,
      );
    case "not_owner":
      throw refusedError(
        `lease ${id} belongs to ${r.owner}, not ${agent.agent_id}; only its owner can renew it`,
      );
    case "conflict": {
      const c = r.conflict;
      const window = c.kind === "window" ? c.windowId : "";
      throw conflictError(
        `cannot renew lease ${id}: ${
          terminalText(c.resource)
        } is inside the pending quiet window ` +
          `${window} requested by ${terminalText(c.owner)}; finish up, release the lease, and ` +
          `acknowledge with 'agentroom window ack ${window}' if you are asked`,
      );
    }
  }
  await refreshPresence(room, agent);
  if (ctx.json) ctx.out.json(r.lease);
  else ctx.out.line(`renewed lease ${id} for ${formatDuration(ttlMs)}`);
  return 0;
}

async function release(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "release", FLAGS, []);
  positionals("lease", "release", rest, 1, 1, "<lease-id>");
  const id = idArg("lease", "lease", rest[0]!);
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await releaseLease(room, { agent, leaseId: id });
  if (r.outcome === "not_owner") {
    throw refusedError(
      `lease ${id} belongs to ${r.owner}, not ${agent.agent_id}; only its owner can release it`,
    );
  }
  await refreshPresence(room, agent);
  if (ctx.json) ctx.out.json({ lease_id: id, released: r.outcome === "released" });
  else if (r.outcome === "released") ctx.out.line(`released lease ${id}`);
  else ctx.out.line(`lease ${id} was already released or expired`);
  return 0;
}

async function breakCommand(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "break", FLAGS, ["reason", "now", "grace"]);
  positionals("lease", "break", rest, 1, 1, "<lease-id>");
  const id = idArg("lease", "lease", rest[0]!);
  const reason = requiredFlag(ctx, "lease", "reason", `"owner crashed"`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(reason) || Array.from(reason.trim()).length > 500) {
    throw new UsageError("--reason must be one line of at most 500 characters", "lease");
  }
  const graceMs = graceFlag(ctx, "lease");
  const agent = ctx.identity;
  const room = await ctx.room();
  await refreshPresence(room, agent);
  const r = await breakLease(room, { agent, leaseId: id, reason, graceMs, now: ctx.bool("now") });
  switch (r.outcome) {
    case "missing":
      throw new NotFoundError(`lease ${id} expired or was released already; nothing to break`);
    case "own":
      throw refusedError(
        `lease ${id} is held by your own session; release it with 'agentroom lease release ${id}'`,
      );
    case "present":
      throw conflictError(
        `cannot break lease ${id}: its owner ${
          terminalText(r.owner)
        } is present; ask them with 'agentroom ask --to ${terminalText(r.owner)}'`,
      );
    case "grace":
      throw conflictError(
        `cannot break lease ${id} yet: its owner ${terminalText(r.owner)} has been absent ${
          minutes(r.absentMs)
        }, less than the grace period of ${
          formatDuration(r.graceMs)
        }; wait, or break it at once with --now (audited)`,
      );
  }
  if (ctx.json) ctx.out.json({ ...r.lease, broken: true, audit_id: r.auditId });
  else {
    ctx.out.line(
      `broke lease ${id} of ${terminalText(r.lease.owner)} on ${
        terminalText(r.lease.resources.join(", "))
      }; ${terminalText(r.lease.owner)} is told in its inbox`,
    );
  }
  return 0;
}

/** The --grace flag: a duration from 0 to 24h, or undefined for the default. */
export function graceFlag(ctx: Context, command: string): number | undefined {
  const text = ctx.flag("grace");
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms > 24 * 3_600_000) {
    throw new UsageError(
      `--grace must be a duration up to 24h such as 0s, 15m or 1h, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return ms;
}

async function list(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "list", FLAGS, []);
  positionals("lease", "list", rest, 0, 0, "no arguments");
  const room = await ctx.room();
  await sweepLapses(room);
  const [leases, view] = await Promise.all([listLeases(room), presenceView(room)]);
  if (ctx.json) {
    ctx.out.json({
      leases: leases.map((l) => ({ ...l, owner_presence: presenceJson(view.of(l)) })),
    });
  } else if (leases.length === 0) ctx.out.line("(no live leases)");
  else for (const l of leases) ctx.out.line(leaseLine(l, view.now, view.of(l)));
  return 0;
}
