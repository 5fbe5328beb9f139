/**
 * The one Codex `config.toml` setting agentroom cares about: network access
 * for the shell tool in Codex's default `workspace-write` sandbox
 * (`[sandbox_workspace_write] network_access = true`). Without it every
 * `agentroom` command the agent runs fails with "Operation not permitted"
 * (loopback TCP and Unix sockets alike); hooks run outside the sandbox and
 * work either way.
 *
 * A line-based editor, not a TOML parser: it reads and changes only the
 * `network_access` key of the `[sandbox_workspace_write]` table and keeps
 * every other byte. Forms it cannot edit safely (a dotted key or an inline
 * table at the top level) are refused with a message to edit by hand.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";

/** The table and key, as printed to the user. */
export const NETWORK_SETTING = "[sandbox_workspace_write]\nnetwork_access = true";

/** What a config says about the sandbox's network. */
export type NetworkAccess = "on" | "off" | "unset";

const TABLE = "sandbox_workspace_write";
const HEADER = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$/;
const ARRAY_HEADER = /^\s*\[\[/;
const KEY = /^(\s*)network_access(\s*)=(\s*)([^#\s]*)(.*)$/;
const TOP_LEVEL_FORM = new RegExp(`^\\s*["']?${TABLE}["']?\\s*[.=]`);

interface Located {
  lines: string[];
  /** Index of the `[sandbox_workspace_write]` header line. */
  header?: number;
  /** Index of its `network_access` line. */
  key?: number;
  /** The key's raw value. */
  value?: string;
}

function locate(text: string, file: string): Located {
  const lines = text.split("\n");
  const found: Located = { lines };
  let table: string | undefined = "";
  lines.forEach((line, i) => {
    if (ARRAY_HEADER.test(line)) {
      table = undefined;
      return;
    }
    const header = line.match(HEADER);
    if (header) {
      table = header[1]!.replace(/\s*\.\s*/g, ".").replace(/^"(.*)"$/, "$1");
      if (table === TABLE && found.header === undefined) found.header = i;
      return;
    }
    if (table === "" && TOP_LEVEL_FORM.test(line)) {
      throw new InvalidValueError(
        `${file} sets ${TABLE} on line ${i + 1} in a form setup does not edit; ` +
          `set network_access = true there by hand`,
      );
    }
    if (table === TABLE && found.key === undefined) {
      const key = line.match(KEY);
      if (key) {
        found.key = i;
        found.value = key[4];
      }
    }
  });
  return found;
}

/**
 * Whether a Codex config gives the workspace-write sandbox network access.
 *
 * @param text the config's text (`""` for a missing file)
 * @param file the file name for errors
 * @returns `on`, `off` (set to something else), or `unset`
 * @throws {InvalidValueError} for a form the editor does not handle
 */
export function networkAccess(text: string, file = "config.toml"): NetworkAccess {
  const found = locate(text, file);
  if (found.key === undefined) return "unset";
  return found.value === "true" ? "on" : "off";
}

/**
 * The config text with `[sandbox_workspace_write] network_access = true`:
 * the key's value replaced where it is, or the key added under an existing
 * table, or the table appended. Unchanged when it is already on.
 *
 * @param text the config's text (`""` for a missing file)
 * @param file the file name for errors
 * @returns the new text
 * @throws {InvalidValueError} for a form the editor does not handle
 */
export function enableNetworkAccess(text: string, file = "config.toml"): string {
  const found = locate(text, file);
  const lines = [...found.lines];
  if (found.key !== undefined) {
    if (found.value === "true") return text;
    lines[found.key] = lines[found.key]!.replace(KEY, "$1network_access$2=$3true$5");
    return lines.join("\n");
  }
  if (found.header !== undefined) {
    lines.splice(found.header + 1, 0, "network_access = true");
    return lines.join("\n");
  }
  let head = text;
  if (head !== "" && !head.endsWith("\n")) head += "\n";
  if (head.trim() !== "") head += "\n";
  return `${head}${NETWORK_SETTING}\n`;
}
