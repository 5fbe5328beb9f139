/**
 * Argument parsing for the CLI: global flags anywhere on the line, one
 * command, its own flags, durations and counts. The only module that knows
 * `node:util` parseArgs, so a later move to `@std/cli` touches one file.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CliError, EXIT } from "./errors.ts";

/** A usage error: unknown command or flag, missing or extra argument (exit 2). */
export class UsageError extends CliError {
  /** The command the error belongs to, for the help hint. */
  readonly command: string;
  /** Creates the error. */
  constructor(message: string, command = "") {
    super(EXIT.usage, message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** Declaration of one flag. */
export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in help, e.g. `ID`. */
  value?: string;
  help: string;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  redis: {
    type: "string",
    value: "URL",
    help: "Redis URL, redis://[user:pass@]host:port[/db] or rediss://",
  },
  addr: {
    type: "string",
    value: "HOST:PORT",
    help: "Redis address (Go-compatible form of --redis)",
  },
  repo: {
    type: "string",
    value: "ID",
    help: "room repository (default: git toplevel name); 'lobby' = the lobby",
  },
  branch: {
    type: "string",
    value: "NAME",
    help: "room branch (default: current git branch, else main)",
  },
  agent: { type: "string", value: "HANDLE", help: "your handle, qualified with the session token" },
  json: { type: "boolean", help: "machine-readable output (JSON; streams as JSON Lines)" },
  help: { type: "boolean", short: "h", help: "show help" },
};

const VALUE_FLAGS = new Set(
  Object.entries(GLOBAL_FLAGS).filter(([, f]) => f.type === "string").map(([n]) => `--${n}`),
);

/** Parsed command line. */
export interface ParsedLine {
  /** The command words (e.g. `["post"]`), empty when none was given. */
  command: string;
  /** Flag values by name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments after the command. */
  positionals: string[];
}

/**
 * Finds the command word: the first argument that is neither a flag nor the
 * value of a global flag.
 *
 * @param args raw arguments
 * @returns the command and its index (`-1` when there is none)
 */
export function findCommand(args: readonly string[]): { command: string; index: number } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") continue;
    return { command: arg, index: i };
  }
  return { command: "", index: -1 };
}

/**
 * Parses the arguments of one command (the command word removed) against the
 * global flags plus `flags`.
 *
 * @param command the command name, for error messages
 * @param args arguments without the command word
 * @param flags the command's own flags
 * @returns flag values and positionals
 * @throws {UsageError} on an unknown flag or a missing flag value
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  flags: Record<string, FlagSpec>,
): ParsedLine {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_FLAGS, ...flags })) {
    const option: { type: "string" | "boolean"; multiple?: boolean; short?: string } = {
      type: spec.type,
    };
    if (spec.multiple) option.multiple = true;
    if (spec.short) option.short = spec.short;
    options[name] = option;
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: true,
    });
    return { command, values: values as ParsedLine["values"], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let text = cleanParseMessage(message);
    const unknown = /^unknown flag (--?[^\s=]+)/.exec(text)?.[1];
    if (unknown?.startsWith("--")) {
      const names = Object.keys({ ...GLOBAL_FLAGS, ...flags }).map((n) => `--${n}`);
      text += didYouMean(unknown, names);
    }
    throw new UsageError(text, command);
  }
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * `"; did you mean 'X'?"` for the candidate closest to `word` (at most two
 * edits away, or the only one it starts), else `""`.
 *
 * @param word what was typed
 * @param candidates what exists
 * @returns the suggestion suffix
 */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const limit = Math.min(2, Math.max(1, Math.floor(word.replace(/^-+/, "").length / 3)));
  if (best !== undefined && bestDistance <= limit) return `; did you mean '${best}'?`;
  const prefixed = candidates.filter((c) => word.length >= 2 && c.startsWith(word));
  return prefixed.length === 1 ? `; did you mean '${prefixed[0]}'?` : "";
}

function cleanParseMessage(message: string): string {
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `unknown flag ${unknown[1]}`;
  const missing = message.match(/Option '([^']+?)(?: <value>)?' argument missing/);
  if (missing) return `flag ${missing[1]!.split(",").pop()!.trim()} needs a value`;
  const ambiguous = message.match(/Option '([^']+?)' argument is ambiguous/);
  if (ambiguous) {
    const flag = ambiguous[1]!.split(",").pop()!.trim();
    return `flag ${flag} got a value starting with '-'; write ${flag}=<value> if you mean it`;
  }
  return message.split(". ")[0]!.replace(/\.$/, "");
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `90s`, `15m`, `1h30m` or `500ms` (Go style, plus `d`).
 *
 * @param text the duration text
 * @returns milliseconds, or `undefined` when it is not a duration
 */
export function parseDuration(text: string): number | undefined {
  if (text === "" || text.length > 40) return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = DURATION_PART.exec(text); m; m = DURATION_PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed !== text.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/**
 * Reads a non-negative integer flag.
 *
 * @param command command name for the error
 * @param flag flag name
 * @param value the raw value (undefined → `fallback`)
 * @param fallback default
 * @throws {UsageError} when the value is not a non-negative integer
 */
export function intFlag(
  command: string,
  flag: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const text = String(value);
  if (!/^\d{1,9}$/.test(text)) {
    throw new UsageError(
      `--${flag} must be a non-negative whole number, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return Number(text);
}

/**
 * Reads a repeatable flag whose values may also be comma-separated.
 *
 * @param value raw flag value(s)
 * @returns the non-empty parts
 */
export function listFlag(value: unknown): string[] {
  const raw = Array.isArray(value) ? value : value === undefined ? [] : [String(value)];
  return raw.flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter((v) => v !== "");
}
