/**
 * `agentroom lease acquire|renew|release|list`: resource leases.
 *
 * @module
 */
import {
  acquireLease,
  DEFAULT_LEASE_TTL_MS,
  listLeases,
  releaseLease,
  renewLease,
} from "../coordination/leases.ts";
import { refreshPresence } from "../presence.ts";
import { terminalText } from "../sanitize.ts";
import type { Command, Context } from "./_context.ts";
import {
  conflictText,
  durationFlag,
  idArg,
  leaseLine,
  NotFoundError,
  onlyFlags,
  positionals,
  requiredFlag,
  resourcesArg,
  subcommand,
} from "./_coord.ts";
import { conflictError, refusedError } from "./errors.ts";
import { formatDuration } from "./_output.ts";

const SUBCOMMANDS = ["acquire", "renew", "release", "list"] as const;
const FLAGS = ["purpose", "ttl"];

/** The lease command. */
export const lease: Command = {
  name: "lease",
  actions: ["acquire", "renew", "release", "list"],
  summary: "reserve files, folders, databases or services before touching them",
  usage: "lease acquire <resource>... --purpose P [--ttl 15m] | renew <id> [--ttl 15m] | " +
    "release <id> | list [--json]",
  details: [
    "Subcommands:",
    "  acquire <resource>...  lease every resource or none; exit 3 names the holder on a conflict",
    "  renew <id>             extend your lease to now + --ttl (refused while a pending quiet",
    "                         window of another agent overlaps it: release instead)",
    "  release <id>           give it back (a lease that already lapsed is fine)",
    "  list                   live leases, soonest expiry first",
    "",
    "Resources are <kind>:<name>. path:<dir/or/file> names a repository-relative path;",
    "a directory lease covers everything below it (path:src/db conflicts with",
    "path:src/db/schema.sql, not with path:src/dbx). Other kinds (db:main, service:api)",
    "conflict only when equal. Leases lapse after --ttl (default 15m, max 24h).",
    "",
    "Exit codes: 0 ok, 1 lease missing/expired or not yours, 2 bad input, 3 conflict.",
  ],
  examples: [
    `lease acquire path:src/db db:staging --purpose "schema migration" --ttl 30m`,
    "lease renew 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b --ttl 30m",
    "lease release 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b",
    "lease list --json",
  ],
  flags: {
    purpose: { type: "string", value: "TEXT", help: "what the lease is for (acquire; required)" },
    ttl: { type: "string", value: "DURATION", help: "lease length, up to 24h (default 15m)" },
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
      case "list":
        return await list(ctx, rest);
    }
  },
};

async function acquire(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "acquire", FLAGS, FLAGS);
  positionals("lease", "acquire", rest, 1, Infinity, "<resource>...");
  const resources = resourcesArg("lease", rest);
  const purpose = requiredFlag(ctx, "lease", "purpose", `"schema migration"`);
  const ttlMs = durationFlag(ctx, "lease", "ttl", DEFAULT_LEASE_TTL_MS);
  const agent = ctx.identity;
  const room = await ctx.room();
  const r = await acquireLease(room, { agent, resources, purpose, ttlMs });
  if (r.outcome === "conflict") {
    throw conflictError(`cannot acquire lease: ${conflictText(r.conflict, agent.agent_id)}`);
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

async function list(ctx: Context, rest: string[]): Promise<number> {
  onlyFlags(ctx, "lease", "list", FLAGS, []);
  positionals("lease", "list", rest, 0, 0, "no arguments");
  const room = await ctx.room();
  const [leases, now] = await Promise.all([listLeases(room), room.serverTime()]);
  if (ctx.json) ctx.out.json({ leases });
  else if (leases.length === 0) ctx.out.line("(no live leases)");
  else for (const l of leases) ctx.out.line(leaseLine(l, now));
  return 0;
}
