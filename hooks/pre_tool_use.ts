/**
 * `hook pre-tool-use`: before a file-editing tool runs (Claude Code Edit,
 * Write, NotebookEdit; Codex apply_patch), map each target file to
 * `path:<repo-relative path>` and ask the guard whether a live lease or quiet
 * window of another session covers it. By default the edit is denied before
 * it runs, with a factual reason listing every conflicting file;
 * `AGENTROOM_GUARD=warn` only adds context (which both harnesses deliver
 * after the edit ran), `off` disables the check. What this session holds,
 * under any handle, never blocks. Files outside the repository and other
 * tools are ignored; infrastructure errors never block. Every run refreshes
 * the session's presence, so an agent deep in a long turn stays present.
 *
 * @module
 */
import { pathInside, resolvePath } from "../src/process/path.ts";
import { gitRoom } from "../src/process/git.ts";
import { guardResources } from "../src/coordination/guard.ts";
import type { ResourceConflict } from "../src/coordination/shared.ts";
import type { Fence } from "../src/fence.ts";
import { presenceOf, refreshPresence } from "../src/presence.ts";
import { envValue } from "../src/process/settings.ts";
import { type HookContext, type HookReply, isOwnSession } from "./_context.ts";

/** Tools whose input names the file they edit, and the field that names it. */
const FILE_TOOLS: Record<string, string> = {
  Edit: "file_path",
  Write: "file_path",
  MultiEdit: "file_path",
  NotebookEdit: "notebook_path",
};

const PATCH_FILE = /^\*\*\* (?:Update|Add|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/;

/**
 * The files a tool call is about to edit, as given (absolute or relative).
 *
 * @param toolName the harness's tool name
 * @param toolInput the tool's input
 */
export function editedFiles(toolName: string, toolInput: Record<string, unknown>): string[] {
  const field = FILE_TOOLS[toolName];
  if (field) {
    const path = toolInput[field];
    return typeof path === "string" && path.trim() !== "" ? [path] : [];
  }
  if (toolName !== "apply_patch") return [];
  const command = toolInput.command ?? toolInput.patch ?? toolInput.input;
  const text = Array.isArray(command)
    ? command.filter((c) => typeof c === "string").join("\n")
    : command;
  if (typeof text !== "string") return [];
  const files: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = line.trim().match(PATCH_FILE);
    const path = (match?.[1] ?? match?.[2])?.trim();
    if (path) files.push(path);
  }
  return files;
}

/**
 * Maps a file to a `path:` resource relative to the repository top, or
 * `undefined` when it lies outside the repository.
 *
 * @param file absolute, or relative to `cwd`
 * @param cwd the session's working directory
 * @param toplevel the repository's top directory
 */
export function pathResource(file: string, cwd: string, toplevel: string): string | undefined {
  const rel = pathInside(toplevel, resolvePath(cwd, file));
  return rel === undefined ? undefined : `path:${rel}`;
}

/** What the pre-tool-use hook does about a conflict (`AGENTROOM_GUARD`). */
export type GuardMode = "deny" | "warn" | "off";

/**
 * The guard mode from `AGENTROOM_GUARD`: `deny` (the default; `strict` is an
 * alias), `warn` (context only, which both harnesses deliver after the edit)
 * or `off`. An unknown value keeps the default.
 *
 * @param value the variable's value
 */
export function guardMode(value: string | undefined): GuardMode {
  const mode = value?.trim().toLowerCase();
  if (mode === "warn" || mode === "off") return mode;
  return "deny";
}

/** Runs the pre-tool-use hook. */
export async function preToolUse(ctx: HookContext): Promise<HookReply> {
  const { input, fence } = ctx;
  const mode = guardMode(envValue(ctx.env, "AGENTROOM_GUARD"));
  if (mode === "off") return {};
  const files = editedFiles(input.tool_name ?? "", input.tool_input ?? {});
  if (files.length === 0) {
    await refreshPresence(ctx.room, ctx.identity);
    return {};
  }
  const cwd = input.cwd ?? ctx.cwd;
  const toplevel = gitRoom(cwd)?.toplevel ?? cwd;
  const resources = [
    ...new Set(files.map((f) => pathResource(f, cwd, toplevel)).filter((r) => r !== undefined)),
  ];
  if (resources.length === 0) {
    await refreshPresence(ctx.room, ctx.identity);
    return {};
  }
  const [verdict] = await Promise.all([
    guardResources(ctx.room, {
      agentId: ctx.identity.agent_id,
      sessionId: ctx.token,
      resources,
    }),
    refreshPresence(ctx.room, ctx.identity),
  ]);
  if (verdict.safe || verdict.reason !== "conflict") return {};
  const conflicts = verdict.conflicts.filter((c) => !isOwnSession(c.owner, ctx.token));
  if (conflicts.length === 0) return {};
  const owners = [...new Set(conflicts.map((c) => c.owner))];
  const present = new Set<string>();
  await Promise.all(owners.map(async (owner) => {
    if (await presenceOf(ctx.room, owner).catch(() => undefined)) present.add(owner);
  }));
  const lines = conflicts.map((c) => conflictLine(c, fence, present.has(c.owner)));
  const verb = mode === "deny" ? "agentroom refused this edit" : "agentroom: this edit";
  const head = conflicts.length === 1
    ? `${verb}: ${conflicts[0]!.resource} is reserved by another agent.`
    : `${verb}: ${conflicts.length} of its files are reserved by other agents.`;
  const text = [
    head,
    ...lines,
    'To coordinate, message the holder with `agentroom ask "<question>" --to <holder>`, ' +
    "or wait until the reservation ends (`agentroom guard path:<file>` shows whether it has).",
    fence.notice,
  ].join("\n");
  if (mode === "deny") return { decision: "deny", reason: text };
  return { context: text };
}

/** One conflict as a line: resource and times outside the fence, holder and ids inside. */
function conflictLine(c: ResourceConflict, fence: Fence, present: boolean): string {
  const minutes = Math.max(1, Math.round((c.expiresAt - c.checkedAt) / 60_000));
  const what = c.kind === "lease"
    ? `lease ${fence.wrap(c.leaseId, 40)}`
    : `${fence.field(c.state, 12)} quiet window ${fence.wrap(c.windowId, 40)}`;
  return `- ${fence.field(c.resource, 300)}: held by ${fence.wrap(c.owner, 120)} ` +
    `(${what} on ${fence.wrap(c.conflictsWith, 300)}, about ${minutes} min left, holder ` +
    `${present ? "present in the room" : "not present in the room"})`;
}
