/**
 * The JSON side of `agentroom setup`: which hooks agentroom installs into a
 * Claude Code `settings.json` or a Codex `hooks.json`, how it recognises its
 * own entries, and how it merges them in and takes them out again without
 * touching anything else. Pure: no files, no process state, so every rule is
 * unit-testable.
 *
 * Both harnesses use the same shape:
 *
 * ```json
 * { "hooks": { "<Event>": [ { "matcher": "<pattern>",
 *     "hooks": [ { "type": "command", "command": "<cmd>", "timeout": 5 } ] } ] } }
 * ```
 *
 * **Which entries are ours.** A handler object is agentroom's when its `type`
 * is `"command"` and its `command`, trimmed,
 *
 * 1. ends with `hook <event>` for one of the four agentroom hook events
 *    (`session-start`, `user-prompt-submit`, `session-end`, `pre-tool-use`),
 *    `hook` being a word of its own, and
 * 2. contains `agentroom` (any case) or one of the caller's own paths (the
 *    running executable, the running `cli.ts`).
 *
 * Only the four event keys agentroom installs are searched. Every entry that
 * matches the rule is managed by `setup`: an older path of ours is replaced,
 * duplicates are removed, and `--uninstall` removes them all. A command you
 * change so that it no longer ends with `hook <event>` (or that names no
 * agentroom path) is yours and is never touched.
 *
 * **Where ours go.** An entry already in place (in a group whose matcher is
 * ours) is updated in place; otherwise agentroom appends its own group at the
 * end of the event's list, so removing it restores the list it was added to.
 * Groups and events left empty by a removal are dropped, and so is a `hooks`
 * object left empty; nothing else is ever deleted or reordered.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";

/** The harnesses `setup` knows. */
export type Harness = "claude" | "codex";

/** The agentroom hook subcommands (`agentroom hook <subcommand>`). */
export type HookSubcommand =
  | "session-start"
  | "user-prompt-submit"
  | "session-end"
  | "pre-tool-use"
  | "post-tool-use"
  | "stop";

/** One hook agentroom wants installed. */
export interface HookSpec {
  /** The harness event key, e.g. `SessionStart`. */
  event: string;
  /** The `hook` subcommand it runs. */
  subcommand: HookSubcommand;
  /** The group matcher; omitted for "every occurrence". */
  matcher?: string;
  /** The full shell command. */
  command: string;
  /** Timeout in seconds (both harnesses take seconds). */
  timeout: number;
}

/** One entry added or removed by a merge. */
export interface HookChange {
  /** The event key. */
  event: string;
  /** The group's matcher, when it has one. */
  matcher?: string;
  /** The command. */
  command: string;
}

/** The outcome of a merge: the new settings and what changed. */
export interface MergeResult {
  /** The settings after the merge (a new object; the input is never mutated). */
  settings: Record<string, unknown>;
  /** Entries added (or updated to a new command/timeout). */
  added: HookChange[];
  /** Entries removed (or replaced by an updated one). */
  removed: HookChange[];
  /** Whether anything changed. */
  changed: boolean;
}

/** A JSON object. */
type JsonObject = Record<string, unknown>;

/** Event, subcommand and timeout (seconds) of each hook, in install order. */
const HOOK_TABLE: readonly { event: string; subcommand: HookSubcommand; timeout: number }[] = [
  { event: "SessionStart", subcommand: "session-start", timeout: 5 },
  { event: "UserPromptSubmit", subcommand: "user-prompt-submit", timeout: 5 },
  // Codex caps SessionEnd at 3 s; Claude Code's SessionEnd budget is raised to
  // the largest per-hook timeout, so 3 s also keeps Claude Code's exit snappy.
  { event: "SessionEnd", subcommand: "session-end", timeout: 3 },
  { event: "PreToolUse", subcommand: "pre-tool-use", timeout: 5 },
  // every tool: directed messages between tool calls (nothing new: one quiet round trip)
  { event: "PostToolUse", subcommand: "post-tool-use", timeout: 5 },
  { event: "Stop", subcommand: "stop", timeout: 5 },
];

/**
 * The PreToolUse matcher per harness: the file-editing tools. Claude Code's
 * are Edit, Write and NotebookEdit (MultiEdit no longer exists); Codex edits
 * files through `apply_patch` (it also lets `Edit`/`Write` select it, as
 * aliases, but reports `apply_patch`).
 */
export const EDIT_MATCHERS: Readonly<Record<Harness, string>> = {
  claude: "Edit|Write|NotebookEdit",
  codex: "apply_patch",
};

/** The event keys agentroom installs (the only ones it ever searches). */
export const HOOK_EVENT_KEYS: readonly string[] = HOOK_TABLE.map((h) => h.event);

const SUBCOMMANDS: readonly string[] = HOOK_TABLE.map((h) => h.subcommand);

/**
 * The hooks agentroom installs for a harness.
 *
 * @param harness `claude` or `codex`
 * @param commandFor the full command for one `hook` subcommand
 * @returns the four hooks, in install order
 */
export function desiredHooks(
  harness: Harness,
  commandFor: (subcommand: HookSubcommand) => string,
): HookSpec[] {
  return HOOK_TABLE.map((h) => {
    const spec: HookSpec = {
      event: h.event,
      subcommand: h.subcommand,
      command: commandFor(h.subcommand),
      timeout: h.timeout,
    };
    if (h.event === "PreToolUse") spec.matcher = EDIT_MATCHERS[harness];
    return spec;
  });
}

const SAFE_WORD = /^[A-Za-z0-9_\-./:=@%+,]+$/;

/**
 * Quotes one word for a POSIX shell (both harnesses run hook commands through
 * a shell): unchanged when it holds only safe characters, else in single quotes.
 *
 * @param word the word
 * @returns the shell-safe word
 */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * How a hook command starts agentroom: a compiled executable at a path,
 * `deno run` on an entry script, or the `agentroom` executable looked up on
 * `PATH` (the only form that works in every clone, so project-scope settings,
 * which are committed, use it).
 */
export type Runner =
  | { kind: "binary"; executable: string }
  | { kind: "source"; deno: string; script: string; permissions: readonly string[] }
  | { kind: "path" };

/**
 * The shell command that runs `agentroom hook <subcommand>` the way this
 * agentroom runs: the compiled executable, or `deno run` with the given
 * permission flags on the entry script. From source it passes `--no-config
 * --no-lock`: a hook runs in the user's project, whose own `deno.json` and
 * lockfile must neither apply to agentroom nor be written; hooks need no npm
 * package (they use the built-in RESP transport), and skipping config
 * resolution saves ~7 ms per hook.
 *
 * @param runner how agentroom is started
 * @param subcommand the hook subcommand
 * @returns the command
 */
export function hookCommand(runner: Runner, subcommand: HookSubcommand): string {
  return [...runnerWords(runner), "hook", subcommand].join(" ");
}

/**
 * The shell words that start agentroom the way `runner` says (before the
 * subcommand).
 *
 * @param runner how agentroom is started
 * @returns the quoted words
 */
export function runnerWords(runner: Runner): string[] {
  if (runner.kind === "path") return ["agentroom"];
  return runner.kind === "binary" ? [shellQuote(runner.executable)] : [
    shellQuote(runner.deno),
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    ...runner.permissions.map(shellQuote),
    shellQuote(runner.script),
  ];
}

const OWN_TAIL = new RegExp(`(?:^|\\s)hook\\s+(?:${SUBCOMMANDS.join("|")})$`);

/**
 * Whether a command is an agentroom hook command (rule in the module doc).
 *
 * @param command the command text
 * @param selfPaths paths that identify this agentroom besides the word
 *   `agentroom` (the running executable, the running `cli.ts`)
 * @returns true when `setup` manages it
 */
export function isAgentroomCommand(command: string, selfPaths: readonly string[] = []): boolean {
  const text = command.trim();
  if (!OWN_TAIL.test(text)) return false;
  if (text.toLowerCase().includes("agentroom")) return true;
  return selfPaths.some((p) => p !== "" && (text.includes(p) || text.includes(shellQuote(p))));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOurHandler(handler: unknown, selfPaths: readonly string[]): boolean {
  return isObject(handler) && handler.type === "command" && typeof handler.command === "string" &&
    isAgentroomCommand(handler.command, selfPaths);
}

/** `""`, `"*"` and a missing matcher all mean "every occurrence". */
function matcherKey(matcher: unknown): string | undefined {
  if (matcher === undefined || matcher === "" || matcher === "*") return undefined;
  return typeof matcher === "string" ? matcher : JSON.stringify(matcher);
}

/**
 * Deep equality of JSON values, ignoring object key order.
 *
 * @param a a JSON value
 * @param b a JSON value
 * @returns whether they are equal
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

function handlerFor(spec: HookSpec): JsonObject {
  return { type: "command", command: spec.command, timeout: spec.timeout };
}

function change(event: string, matcher: unknown, command: string): HookChange {
  const key = matcherKey(matcher);
  return key === undefined ? { event, command } : { event, matcher: key, command };
}

/**
 * Checks the top of a settings document and returns a deep copy to edit.
 *
 * @throws {InvalidValueError} when it is not an object, or `hooks` or one of
 *   agentroom's event keys has the wrong type (nothing can be merged safely)
 */
function editableCopy(settings: unknown, what: string): JsonObject {
  if (!isObject(settings)) throw new InvalidValueError(`${what} is not a JSON object`);
  const copy = structuredClone(settings) as JsonObject;
  if (copy.hooks === undefined) return copy;
  if (!isObject(copy.hooks)) throw new InvalidValueError(`"hooks" in ${what} is not an object`);
  for (const event of HOOK_EVENT_KEYS) {
    const list = copy.hooks[event];
    if (list !== undefined && !Array.isArray(list)) {
      throw new InvalidValueError(`"hooks.${event}" in ${what} is not a list`);
    }
  }
  return copy;
}

/**
 * Removes agentroom handlers from one event's group list, except `keep` (the
 * handler object to leave in place). Drops groups the removal left empty.
 */
function removeOurs(
  event: string,
  groups: unknown[],
  selfPaths: readonly string[],
  removed: HookChange[],
  keep?: unknown,
): unknown[] {
  const out: unknown[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) {
      out.push(group);
      continue;
    }
    const kept = group.hooks.filter((h) => {
      if (h === keep || !isOurHandler(h, selfPaths)) return true;
      removed.push(change(event, group.matcher, (h as JsonObject).command as string));
      return false;
    });
    if (kept.length === group.hooks.length) out.push(group);
    else if (kept.length > 0) out.push({ ...group, hooks: kept });
  }
  return out;
}

/** Sets or drops `hooks[event]`, and drops `hooks` itself when it became empty. */
function storeEvent(doc: JsonObject, event: string, groups: unknown[], hadGroups: boolean): void {
  const hooks = doc.hooks as JsonObject;
  if (groups.length > 0 || !hadGroups) hooks[event] = groups;
  else delete hooks[event];
  if (Object.keys(hooks).length === 0) delete doc.hooks;
}

/**
 * Installs agentroom's hooks into a settings document (rules in the module doc).
 *
 * @param settings the parsed settings (`{}` for a missing file)
 * @param specs the hooks to install ({@linkcode desiredHooks})
 * @param options `selfPaths` for {@linkcode isAgentroomCommand}; `what` names
 *   the document in errors
 * @returns the new settings and what changed
 * @throws {InvalidValueError} when the document cannot be merged safely
 */
export function installHooks(
  settings: unknown,
  specs: readonly HookSpec[],
  options: { selfPaths?: readonly string[]; what?: string } = {},
): MergeResult {
  const selfPaths = options.selfPaths ?? [];
  const doc = editableCopy(settings, options.what ?? "the settings");
  const added: HookChange[] = [];
  const removed: HookChange[] = [];
  for (const spec of specs) {
    if (doc.hooks === undefined) doc.hooks = {};
    const hooks = doc.hooks as JsonObject;
    const existing = hooks[spec.event] as unknown[] | undefined;
    const groups = existing ? [...existing] : [];
    const wanted = handlerFor(spec);
    // the first of ours in a group with our matcher is the slot to keep
    let slot: { group: number; handler: number } | undefined;
    groups.forEach((group, g) => {
      if (slot || !isObject(group) || !Array.isArray(group.hooks)) return;
      if (matcherKey(group.matcher) !== matcherKey(spec.matcher)) return;
      const h = group.hooks.findIndex((x) => isOurHandler(x, selfPaths));
      if (h >= 0) slot = { group: g, handler: h };
    });
    let keep: unknown;
    if (slot) {
      const group = groups[slot.group] as JsonObject;
      const current = (group.hooks as unknown[])[slot.handler];
      if (sameJson(current, wanted)) keep = current;
      else {
        const list = [...(group.hooks as unknown[])];
        removed.push(change(spec.event, group.matcher, (current as JsonObject).command as string));
        added.push(change(spec.event, spec.matcher, spec.command));
        list[slot.handler] = wanted;
        keep = wanted;
        groups[slot.group] = { ...group, hooks: list };
      }
    }
    let next = removeOurs(spec.event, groups, selfPaths, removed, keep);
    if (!slot) {
      const group: JsonObject = spec.matcher === undefined
        ? { hooks: [wanted] }
        : { matcher: spec.matcher, hooks: [wanted] };
      next = [...next, group];
      added.push(change(spec.event, spec.matcher, spec.command));
    }
    storeEvent(doc, spec.event, next, existing !== undefined && existing.length > 0);
  }
  return { settings: doc, added, removed, changed: added.length > 0 || removed.length > 0 };
}

/**
 * Removes every agentroom hook from a settings document, and the groups,
 * events and `hooks` object that removal left empty. Nothing else changes.
 *
 * @param settings the parsed settings
 * @param options `selfPaths` for {@linkcode isAgentroomCommand}; `what` names
 *   the document in errors
 * @returns the new settings and what was removed
 * @throws {InvalidValueError} when the document cannot be read safely
 */
export function uninstallHooks(
  settings: unknown,
  options: { selfPaths?: readonly string[]; what?: string } = {},
): MergeResult {
  const selfPaths = options.selfPaths ?? [];
  const doc = editableCopy(settings, options.what ?? "the settings");
  const removed: HookChange[] = [];
  if (isObject(doc.hooks)) {
    for (const event of HOOK_EVENT_KEYS) {
      const hooks = doc.hooks as JsonObject | undefined;
      const groups = hooks?.[event] as unknown[] | undefined;
      if (!groups) continue;
      const before = removed.length;
      const next = removeOurs(event, groups, selfPaths, removed);
      if (removed.length > before) storeEvent(doc, event, next, true);
    }
  }
  const changed = removed.length > 0;
  return { settings: doc, added: [], removed, changed };
}
