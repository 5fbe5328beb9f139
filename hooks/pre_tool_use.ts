/**
 * `hook pre-tool-use`: before a file-editing tool runs (Claude Code Edit,
 * Write, MultiEdit, NotebookEdit; Codex apply_patch), map each target file to
 * `path:<repo-relative path>` and ask the guard whether a live lease or quiet
 * window of another agent covers it. By default the agent gets a warning in
 * its context; with `AGENTROOM_GUARD=strict` the edit is denied. Leases of
 * this session's own identities never block. Files outside the repository
 * and other tools are ignored; infrastructure errors never block.
 *
 * @module
 */
import { pathInside, resolvePath } from "../src/process/path.ts";
import { gitRoom } from "../src/process/git.ts";
import { guardResources } from "../src/coordination/guard.ts";
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

/** Runs the pre-tool-use hook. */
export async function preToolUse(ctx: HookContext): Promise<HookReply> {
  const { input, fence } = ctx;
  const files = editedFiles(input.tool_name ?? "", input.tool_input ?? {});
  if (files.length === 0) return {};
  const cwd = input.cwd ?? Deno.cwd();
  const toplevel = gitRoom(cwd)?.toplevel ?? cwd;
  const resources = [
    ...new Set(files.map((f) => pathResource(f, cwd, toplevel)).filter((r) => r !== undefined)),
  ];
  if (resources.length === 0) return {};
  const verdict = await guardResources(ctx.room, { agentId: ctx.identity.agent_id, resources });
  if (verdict.safe || verdict.reason !== "conflict") return {};
  const c = verdict.conflict;
  if (isOwnSession(c.owner, ctx.token)) return {};
  const what = c.kind === "lease" ? `lease ${c.leaseId}` : `${c.state} quiet window ${c.windowId}`;
  const minutes = Math.max(1, Math.round((c.expiresAt - c.checkedAt) / 60_000));
  const holder = fence.wrap(`${c.owner} holds ${c.conflictsWith}`, 300);
  const text = `agentroom: ${c.resource} is reserved by another agent: ${holder} ` +
    `(${what}, about ${minutes} more min). Coordinate before editing: ask the ` +
    'holder (`agentroom ask "…" --to <holder>`) or wait for the release.';
  if (envValue(ctx.env, "AGENTROOM_GUARD") === "strict") {
    return { decision: "deny", reason: `${text}\n${fence.notice}` };
  }
  return { context: `${fence.notice}\n${text}` };
}
