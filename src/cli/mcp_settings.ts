/**
 * Where each harness reads its MCP servers, and the edits `setup` makes
 * there to register (or remove) `agentroom mcp` as the server `agentroom`:
 *
 * - Claude Code: `.mcp.json` at the project root (`--project`, committed),
 *   `~/.claude.json` top-level `mcpServers` (`--user`), or
 *   `~/.claude.json` `projects["<project>"].mcpServers` (`--local`);
 *   `CLAUDE_CONFIG_DIR` moves `.claude.json` like the rest of the user config.
 * - Codex: `[mcp_servers.agentroom]` in the `config.toml` beside the scope's
 *   `hooks.json` (a line editor: only that table is touched).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { AgentroomError, InvalidValueError } from "../errors.ts";
import type { Harness, Runner } from "./hook_settings.ts";

/** The server's name in every harness's configuration. */
export const SERVER_NAME = "agentroom";

/** How a harness starts the server. */
export interface McpServerEntry {
  /** The executable. */
  command: string;
  /** Its arguments (ending in `mcp`). */
  args: string[];
}

/**
 * The command that starts `agentroom mcp` the way this agentroom runs.
 * From source it passes agentroom's own `deno.json` (`--config`): the server
 * imports npm packages through its import map, and the user's project's
 * configuration must not apply.
 *
 * @param runner how agentroom is started
 * @returns the command and arguments
 */
export function mcpServerEntry(runner: Runner): McpServerEntry {
  if (runner.kind === "path") return { command: "agentroom", args: ["mcp"] };
  if (runner.kind === "binary") return { command: runner.executable, args: ["mcp"] };
  const config = runner.script.startsWith("/") || /^[A-Za-z]:[\\/]/.test(runner.script)
    ? ["--config", join(resolve(runner.script, ".."), "deno.json")]
    : [];
  return {
    command: runner.deno,
    args: ["run", "--quiet", ...config, ...runner.permissions, runner.script, "mcp"],
  };
}

/** Whether an entry is one `setup` wrote: a command whose last argument is `mcp`. */
export function isOwnEntry(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const args = (value as { args?: unknown }).args;
  return Array.isArray(args) && args.at(-1) === "mcp";
}

/**
 * The file a harness reads MCP servers from, for a scope.
 *
 * @param harness claude or codex
 * @param scope user, project or local
 * @param options the hooks settings file of the scope (Codex's config.toml sits beside it),
 *   the project root, and the environment
 * @returns the absolute path
 * @throws {AgentroomError} when `HOME` is needed and not set
 */
export function mcpConfigPath(
  harness: Harness,
  scope: "user" | "project" | "local",
  options: { hooksFile: string; root: string; env: (name: string) => string | undefined },
): string {
  if (harness === "codex") return join(resolve(options.hooksFile, ".."), "config.toml");
  if (scope === "project") return join(options.root, ".mcp.json");
  const override = options.env("CLAUDE_CONFIG_DIR");
  if (override) return join(resolve(options.root, override), ".claude.json");
  const home = options.env("HOME") ||
    (Deno.build.os === "windows" ? options.env("USERPROFILE") : undefined);
  if (!home) {
    throw new AgentroomError(
      "invalid_value",
      "HOME is not set, so ~/.claude.json (Claude Code's MCP servers) cannot be found; set " +
        "HOME, use --project, or --no-mcp",
    );
  }
  return join(home, ".claude.json");
}

type JsonObject = Record<string, unknown>;

function objectAt(doc: JsonObject, key: string, file: string): JsonObject | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidValueError(`${file}: "${key}" is not a JSON object; fix it by hand`);
  }
  return value as JsonObject;
}

/**
 * Registers or removes the server in a Claude Code document (`.mcp.json` or
 * `~/.claude.json`), keeping every other key and its order.
 *
 * @param doc the parsed file (not changed)
 * @param options the entry (install) or `undefined` (uninstall), the project for `--local`,
 *   and the file name for errors
 * @returns the new document and whether it changed
 */
export function editClaudeMcp(
  doc: JsonObject,
  options: { entry?: McpServerEntry; project?: string; file: string },
): { doc: JsonObject; changed: boolean } {
  const { entry, project, file } = options;
  const next = structuredClone(doc);
  let holder: JsonObject = next;
  if (project !== undefined) {
    const projects = objectAt(next, "projects", file);
    if (!projects) {
      if (!entry) return { doc, changed: false };
      next.projects = {};
    }
    const all = next.projects as JsonObject;
    const mine = objectAt(all, project, file);
    if (!mine) {
      if (!entry) return { doc, changed: false };
      all[project] = {};
    }
    holder = all[project] as JsonObject;
  }
  const servers = objectAt(holder, "mcpServers", file);
  const current = servers?.[SERVER_NAME];
  if (!entry) {
    if (!servers || current === undefined || !isOwnEntry(current)) return { doc, changed: false };
    delete servers[SERVER_NAME];
    return { doc: next, changed: true };
  }
  const wanted = { type: "stdio", command: entry.command, args: entry.args };
  if (current !== undefined && !isOwnEntry(current)) {
    throw new InvalidValueError(
      `${file} already has an MCP server named "${SERVER_NAME}" that setup did not write; ` +
        "rename or remove it, or pass --no-mcp",
    );
  }
  if (JSON.stringify(current) === JSON.stringify(wanted)) return { doc, changed: false };
  if (servers) servers[SERVER_NAME] = wanted;
  else holder.mcpServers = { [SERVER_NAME]: wanted };
  return { doc: next, changed: true };
}

const HEADER = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$/;
const ARRAY_HEADER = /^\s*\[\[/;

function tableName(line: string): string | undefined {
  if (ARRAY_HEADER.test(line)) return "[[array]]";
  const header = line.match(HEADER);
  if (!header) return undefined;
  return header[1]!.split(".").map((part) => part.trim().replace(/^"(.*)"$/, "$1")).join(".");
}

/** A TOML basic string (JSON's escapes are valid TOML). */
function tomlString(text: string): string {
  return JSON.stringify(text);
}

/**
 * Registers or removes `[mcp_servers.agentroom]` in a Codex `config.toml`.
 * Install replaces that table's `command` and `args` (adding them when
 * missing) and keeps any other key of it (`env`, `enabled`, …); a missing
 * table is appended. Uninstall removes the table and its sub-tables.
 * Every other byte is kept.
 *
 * @param text the config's text (`""` for a missing file)
 * @param options the entry (install) or `undefined` (uninstall), and the file name for errors
 * @returns the new text
 * @throws {InvalidValueError} for a form the editor does not handle
 */
export function editCodexMcp(
  text: string,
  options: { entry?: McpServerEntry; file: string },
): string {
  const { entry, file } = options;
  const own = `mcp_servers.${SERVER_NAME}`;
  const lines = text.split("\n");
  let start = -1;
  let end = lines.length;
  let table = "";
  lines.forEach((line, i) => {
    const name = tableName(line);
    if (name !== undefined) {
      if (start !== -1 && end === lines.length && name !== own && !name.startsWith(`${own}.`)) {
        end = i;
      }
      if (name === own && start === -1) start = i;
      table = name;
      return;
    }
    if (table === "" && /^\s*"?mcp_servers"?\s*[.=]/.test(line)) {
      throw new InvalidValueError(
        `${file} sets mcp_servers on line ${i + 1} in a form setup does not edit; add ` +
          `[${own}] by hand, or pass --no-mcp`,
      );
    }
  });
  if (!entry) {
    if (start === -1) return text;
    // also drop the blank lines that separated the table from what came before
    let from = start;
    while (from > 0 && lines[from - 1]!.trim() === "") from--;
    const kept = [...lines.slice(0, from), ...lines.slice(end)];
    let out = kept.join("\n");
    if (from === 0) out = out.replace(/^\n+/, "");
    if (out !== "" && !out.endsWith("\n")) out += "\n";
    return out;
  }
  const command = `command = ${tomlString(entry.command)}`;
  const args = `args = [${entry.args.map(tomlString).join(", ")}]`;
  if (start === -1) {
    let head = text;
    if (head !== "" && !head.endsWith("\n")) head += "\n";
    if (head.trim() !== "") head += "\n";
    return `${head}[${own}]\n${command}\n${args}\n`;
  }
  const block = lines.slice(start + 1, end);
  // keys of the table itself end at its first sub-table header
  const ownEnd = block.findIndex((l) => tableName(l) !== undefined);
  const keys = ownEnd === -1 ? block : block.slice(0, ownEnd);
  const rest = ownEnd === -1 ? [] : block.slice(ownEnd);
  const replaced: string[] = [];
  let sawCommand = false;
  let sawArgs = false;
  for (const line of keys) {
    if (/^\s*command\s*=/.test(line)) {
      replaced.push(command);
      sawCommand = true;
    } else if (/^\s*args\s*=/.test(line)) {
      if (!line.includes("]")) {
        throw new InvalidValueError(
          `${file}: [${own}] args spans several lines; edit it by hand, or pass --no-mcp`,
        );
      }
      replaced.push(args);
      sawArgs = true;
    } else replaced.push(line);
  }
  const added = [...(sawCommand ? [] : [command]), ...(sawArgs ? [] : [args])];
  return [
    ...lines.slice(0, start + 1),
    ...added,
    ...replaced,
    ...rest,
    ...lines.slice(end),
  ].join("\n");
}
