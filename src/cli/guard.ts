/**
 * `agentroom guard <resource>...`: may I touch these now? Exit 0 safe,
 * 3 unsafe (with the holder named), 2 bad input, 1 operational failure.
 * `guard --staged` checks every path staged for commit (the git pre-commit
 * backstop that `setup git` installs), with an audited bypass.
 *
 * @module
 */
import type { ResourceConflict } from "../coordination/shared.ts";
import { guardResources, type GuardVerdict } from "../coordination/guard.ts";
import { MAX_RESOURCES, parseResource } from "../coordination/resources.ts";
import { gitText, runGit } from "../process/git_command.ts";
import type { AgentIdentity } from "../identity.ts";
import type { Room } from "../room.ts";
import { terminalText } from "../sanitize.ts";
import { UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { conflictText, idArg, left, presenceJson, resourcesArg } from "./_coord.ts";
import { type HolderPresence, presenceView } from "../presence.ts";
import { conflictError } from "./errors.ts";
import { retryUntil, waitFlags } from "./_wait.ts";

function unsafeText(
  v: Exclude<GuardVerdict, { safe: true }>,
  me: string,
  holder?: HolderPresence,
): string {
  switch (v.reason) {
    case "conflict":
      return `unsafe: ${conflictText(v.conflict, me, holder)}`;
    case "lease_missing":
      return `unsafe: lease ${v.leaseId} expired or was released; acquire the resources again ` +
        `with 'agentroom lease acquire'`;
    case "not_owner":
      return `unsafe: lease ${v.leaseId} belongs to ${terminalText(v.owner)}, not ${me}`;
    case "not_held":
      return `unsafe: you hold no lease covering ${terminalText(v.resource)} (--require-held); ` +
        `acquire it with 'agentroom lease acquire ${terminalText(v.resource)} --purpose ...'`;
  }
}

/** The environment variable that lets one commit through, audited. */
export const BYPASS_VARIABLE = "AGENTROOM_GUARD_BYPASS";

/** The event a bypassed guard publishes. */
export const BYPASS_EVENT = "GUARD_BYPASSED";

/** At most this many paths are named in a bypass event (the payload has a cap). */
const MAX_AUDITED_PATHS = 100;

/**
 * The paths staged in the repository around `cwd`, repo-relative, from
 * `git diff --cached --name-only -z` (deletions and renames included: both
 * touch the path).
 *
 * @param cwd a directory inside the working tree
 * @returns the staged paths
 */
export async function stagedPaths(cwd: string): Promise<string[]> {
  const top = await gitText(["rev-parse", "--show-toplevel"], cwd);
  const out = await runGit(["diff", "--cached", "--name-only", "-z", "--no-renames"], top);
  if (out.code !== 0) {
    const first = out.stderr.trim().split("\n")[0] || `exit ${out.code}`;
    throw new UsageError(`guard --staged needs a git repository: ${first}`, "guard");
  }
  return new TextDecoder().decode(out.stdout).split("\0").filter((p) => p !== "");
}

/** One staged path held by someone else. */
interface Held {
  path: string;
  conflict: ResourceConflict;
}

/**
 * Every conflict among `resources`, not only the first (the guard reports one
 * per conflicting resource), in batches of {@linkcode MAX_RESOURCES}.
 */
async function allConflicts(room: Room, me: AgentIdentity, resources: string[]): Promise<Held[]> {
  const found: Held[] = [];
  for (let i = 0; i < resources.length; i += MAX_RESOURCES) {
    const verdict = await guardResources(room, {
      agentId: me.agent_id,
      sessionId: me.session_id,
      resources: resources.slice(i, i + MAX_RESOURCES),
    });
    if (verdict.safe || verdict.reason !== "conflict") continue;
    for (const c of verdict.conflicts) {
      found.push({ path: c.resource.slice("path:".length), conflict: c });
    }
  }
  return found;
}

function holderText(c: ResourceConflict): string {
  const owner = terminalText(c.owner);
  return c.kind === "lease"
    ? `leased by ${owner} (lease ${terminalText(c.leaseId)}, ${
      left(c.expiresAt, c.checkedAt)
    } left)`
    : `in the ${terminalText(c.state)} quiet window ${terminalText(c.windowId)} of ${owner}`;
}

async function guardStaged(ctx: Context): Promise<number> {
  if (ctx.line.positionals.length > 0) {
    throw new UsageError("guard --staged takes no resources (it reads them from git)", "guard");
  }
  if (ctx.flag("lease") !== undefined || ctx.bool("require-held") || ctx.bool("wait")) {
    throw new UsageError("guard --staged takes no --lease, --require-held or --wait", "guard");
  }
  const paths = await stagedPaths(ctx.cwd);
  const resources: string[] = [];
  const unchecked: string[] = [];
  for (const path of paths) {
    try {
      resources.push(parseResource(`path:${path}`));
    } catch {
      unchecked.push(path); // a name no lease can name (e.g. with `*`)
    }
  }
  for (const path of unchecked) {
    ctx.out.warn(`${path} cannot be named as a resource; not checked`);
  }
  const bypass = (ctx.env(BYPASS_VARIABLE) ?? "") === "1";
  const me = ctx.identity;
  const held = resources.length === 0
    ? []
    : await allConflicts(await ctx.room(), me, [...new Set(resources)]);
  const report = {
    safe: held.length === 0,
    staged: paths.length,
    held: held.map((h) => ({
      path: h.path,
      kind: h.conflict.kind,
      holder: h.conflict.owner,
      resource: h.conflict.conflictsWith,
      id: h.conflict.kind === "lease" ? h.conflict.leaseId : h.conflict.windowId,
      expires_at: h.conflict.expiresAt,
    })),
    unchecked,
    bypassed: false,
  };
  if (held.length === 0) {
    if (ctx.json) ctx.out.json(report);
    else ctx.out.line(`safe: ${paths.length} staged path${paths.length === 1 ? "" : "s"}`);
    return 0;
  }
  const holders = [...new Set(held.map((h) => h.conflict.owner))].sort();
  if (bypass) {
    const room = await ctx.room();
    const event = await room.publish({
      type: BYPASS_EVENT,
      agent: me,
      payload: {
        check: "pre-commit",
        holders,
        paths: report.held.slice(0, MAX_AUDITED_PATHS),
        more_paths: Math.max(0, report.held.length - MAX_AUDITED_PATHS),
      },
    });
    report.bypassed = true;
    if (ctx.json) ctx.out.json({ ...report, event_id: event.id });
    else {
      for (const h of held) {
        ctx.out.line(`bypassed: ${terminalText(h.path)} ${holderText(h.conflict)}`);
      }
    }
    ctx.out.warn(
      `${BYPASS_VARIABLE}=1: committing ${held.length} path${
        held.length === 1 ? "" : "s"
      } held by ${holders.join(", ")}; recorded as ${BYPASS_EVENT} ${event.id}`,
    );
    return 0;
  }
  if (ctx.json) ctx.out.json(report);
  else {
    for (const h of held) ctx.out.line(`held: ${terminalText(h.path)} ${holderText(h.conflict)}`);
  }
  throw conflictError(
    `${held.length} staged path${held.length === 1 ? " is" : "s are"} held by another agent (${
      terminalText(holders.join(", "))
    }); coordinate with them (ask them to release, or wait), or commit anyway with ` +
      `${BYPASS_VARIABLE}=1 git commit ... (recorded in the room as ${BYPASS_EVENT})`,
  );
}

/** The guard command. */
export const guard: Command = {
  name: "guard",
  summary: "check that no one else holds a lease or quiet window on resources (exit 3 if unsafe)",
  usage: "guard <resource>... [--lease ID] [--require-held] [--wait [--timeout D]] [--json] | " +
    "guard --staged [--json]",
  details: [
    "Safe (exit 0) unless a live lease or a pending/active quiet window of another agent",
    "overlaps a resource (exit 3, naming the holder). Your own leases and windows are never",
    "conflicts for you. --lease ID: you act under that lease; it must be live and yours, and",
    "only it counts as holding. --require-held: every resource must be covered by your lease",
    "(or your active window). What your session holds under any handle is yours. Writes nothing.",
    "--wait: instead of exit 3, wait until safe: woken by the room's events (a release, a break)",
    "or when the holder's lease lapses, up to --timeout (default 10m); then exit 3 as without.",
    "",
    "--staged: checks every path staged for commit ('git diff --cached') as path:<repo path>",
    "and names every held one (exit 3). This is what the pre-commit hook of 'setup git' runs.",
    `${BYPASS_VARIABLE}=1 lets the commit through (exit 0) and publishes ${BYPASS_EVENT}`,
    "naming the paths and their holders. Writes nothing else, not even presence.",
  ],
  examples: [
    "guard path:src/db/schema.sql",
    "guard path:src/db --lease 3f2a9c0e4b1d4e6f8a7b6c5d4e3f2a1b --require-held --json",
    "guard --staged",
  ],
  flags: {
    lease: { type: "string", value: "ID", help: "the lease you act under" },
    "require-held": { type: "boolean", help: "unsafe unless you hold every resource" },
    staged: { type: "boolean", help: "check the paths staged for commit (git)" },
    wait: { type: "boolean", help: "wait until safe (woken by the room's events; no polling)" },
    timeout: {
      type: "string",
      value: "DURATION",
      help: "with --wait: give up after (default 10m)",
    },
  },
  args: { min: 0, max: Infinity, what: "<resource>..." },
  run: async (ctx) => {
    if (ctx.bool("staged")) return await guardStaged(ctx);
    if (ctx.line.positionals.length === 0) {
      throw new UsageError("missing argument: guard takes <resource>... (or --staged)", "guard");
    }
    const resources = resourcesArg("guard", ctx.line.positionals);
    const leaseText = ctx.flag("lease");
    const leaseId = leaseText === undefined ? undefined : idArg("guard", "lease", leaseText);
    const { timeoutMs } = waitFlags(ctx, "guard");
    const agent = ctx.identity;
    const room = await ctx.room();
    const verdict = await retryUntil(
      room,
      timeoutMs,
      () =>
        guardResources(room, {
          agentId: agent.agent_id,
          sessionId: agent.session_id,
          resources,
          leaseId,
          requireHeld: ctx.bool("require-held"),
        }),
      (v) =>
        v.safe
          ? false
          : v.reason === "conflict"
          ? v.conflict.expiresAt - v.conflict.checkedAt
          : v.reason === "not_held"
          ? undefined
          : false,
    );
    if (verdict.safe) {
      if (ctx.json) {
        ctx.out.json({ safe: true, held: verdict.held, checked_at: verdict.checkedAt });
      } else ctx.out.line("safe");
      return 0;
    }
    const holder = verdict.reason === "conflict"
      ? (await presenceView(room)).of({ owner: verdict.conflict.owner })
      : undefined;
    const message = unsafeText(verdict, agent.agent_id, holder);
    if (ctx.json) {
      const { safe: _, checkedAt, ...why } = verdict;
      ctx.out.json({
        safe: false,
        error: message,
        ...why,
        ...(holder ? { holder_presence: presenceJson(holder) } : {}),
        checked_at: checkedAt,
      });
    }
    throw conflictError(message);
  },
};
