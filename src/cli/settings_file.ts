/**
 * The text side of a settings file: parsing JSON with a clear error, keeping
 * the file's indentation, a small line diff to show what `setup` changes, and
 * the careful write (backup, atomic rename) every `setup` target uses.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { AgentroomError, InvalidValueError } from "../errors.ts";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Parses a settings file's text. Empty (or all-whitespace) text is `{}`.
 *
 * @param text the file's text
 * @param file the file name for the error
 * @returns the document
 * @throws {InvalidValueError} naming the file when it is not a JSON object
 */
export function parseSettings(text: string, file: string): JsonObject {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidValueError(
      `${file} is not valid JSON (${detail}); fix or move it and run setup again (left untouched)`,
    );
  }
  if (!isObject(value)) {
    throw new InvalidValueError(
      `${file} does not hold a JSON object; fix or move it and run setup again (left untouched)`,
    );
  }
  return value;
}

/**
 * The indentation a JSON text uses: its first indented line's leading
 * whitespace (a tab or 1-8 spaces), else 2 spaces.
 *
 * @param text JSON text
 * @returns the indent for `JSON.stringify`
 */
export function detectIndent(text: string): string {
  const match = text.match(/^[ \t]*[{[][ \t]*\r?\n([ \t]+)\S/);
  if (!match) return "  ";
  const indent = match[1]!;
  if (indent.startsWith("\t")) return "\t";
  return indent.length <= 8 ? indent : "  ";
}

/**
 * Serialises settings the way `setup` writes them: pretty-printed with
 * `indent`, keys in their existing order, and a final newline.
 *
 * @param settings the document
 * @param indent indentation ({@linkcode detectIndent})
 * @returns the file text
 */
export function formatSettings(settings: unknown, indent = "  "): string {
  return JSON.stringify(settings, null, indent) + "\n";
}

/**
 * A unified-style line diff (`---`/`+++` header, `@@` hunks with `context`
 * lines around each change). Empty when the texts are equal.
 *
 * @param before old text
 * @param after new text
 * @param options `from`/`to` labels and the context size
 * @returns the diff lines
 */
export function lineDiff(
  before: string,
  after: string,
  options: { from?: string; to?: string; context?: number } = {},
): string[] {
  if (before === after) return [];
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffOps(a, b);
  const context = options.context ?? 3;
  const out = [`--- ${options.from ?? "before"}`, `+++ ${options.to ?? "after"}`];
  // positions (in ops) of changes, grouped into hunks with shared context
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === " ") {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    while (end < ops.length) {
      if (ops[end]!.kind !== " ") {
        end++;
        continue;
      }
      let run = end;
      while (run < ops.length && ops[run]!.kind === " ") run++;
      if (run === ops.length || run - end > 2 * context) {
        end = Math.min(run, end + context);
        break;
      }
      end = run;
    }
    const hunk = ops.slice(start, end);
    const first = ops[start]!;
    const oldCount = hunk.filter((o) => o.kind !== "+").length;
    const newCount = hunk.filter((o) => o.kind !== "-").length;
    const oldStart = oldCount === 0 ? first.oldLine - 1 : first.oldLine;
    const newStart = newCount === 0 ? first.newLine - 1 : first.newLine;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of hunk) out.push(op.kind + op.text);
    i = end;
  }
  return out;
}

interface DiffOp {
  kind: " " | "-" | "+";
  text: string;
  /** 1-based line in `before` where this op sits (next line for `+`). */
  oldLine: number;
  /** 1-based line in `after` where this op sits (next line for `-`). */
  newLine: number;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Longest-common-subsequence diff; settings files are small. */
function diffOps(a: string[], b: string[]): DiffOp[] {
  // trim the common head and tail so the table only covers the changed middle
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head && tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const n = midA.length;
  const m = midB.length;
  const kinds: (" " | "-" | "+")[] = [];
  const texts: string[] = [];
  if (n * m > 4_000_000) {
    for (const t of midA) kinds.push("-"), texts.push(t);
    for (const t of midB) kinds.push("+"), texts.push(t);
  } else {
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = midA[i] === midB[j]
          ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        kinds.push(" "), texts.push(midA[i]!), i++, j++;
      } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
        kinds.push("-"), texts.push(midA[i]!), i++;
      } else {
        kinds.push("+"), texts.push(midB[j]!), j++;
      }
    }
  }
  const ops: DiffOp[] = [];
  let oldLine = 1;
  let newLine = 1;
  const push = (kind: " " | "-" | "+", text: string) => {
    ops.push({ kind, text, oldLine, newLine });
    if (kind !== "+") oldLine++;
    if (kind !== "-") newLine++;
  };
  for (let k = 0; k < head; k++) push(" ", a[k]!);
  kinds.forEach((kind, k) => push(kind, texts[k]!));
  for (let k = a.length - tail; k < a.length; k++) push(" ", a[k]!);
  return ops;
}

/**
 * Reads a file that may not exist yet.
 *
 * @param file the path
 * @returns its text, or `undefined` when it does not exist
 * @throws {AgentroomError} when it exists but is not a readable regular file
 */
export async function readExisting(file: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(file);
    if (!info.isFile) throw new InvalidValueError(`${file} is not a regular file`);
    return await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof AgentroomError) throw error;
    throw new AgentroomError("invalid_value", `cannot read ${file}: ${(error as Error).message}`);
  }
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Copies the original text next to the file as `<file>.bak-<UTC timestamp>`;
 * never overwrites a backup.
 *
 * @param file the file being changed
 * @param text its original text
 * @param now the time for the name
 * @returns the backup's path
 */
export async function writeBackup(file: string, text: string, now: Date): Promise<string> {
  const base = `${file}.bak-${stamp(now)}`;
  for (let n = 0; n < 100; n++) {
    const candidate = n === 0 ? base : `${base}-${n}`;
    try {
      await Deno.writeTextFile(candidate, text, { createNew: true });
      return candidate;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new AgentroomError("invalid_value", `cannot pick a free backup name next to ${file}`);
}

/**
 * Writes through a temporary file and a rename, so readers never see half a file.
 *
 * @param file the path
 * @param text the new text
 * @param mode permission bits (default 0644)
 */
export async function writeAtomically(file: string, text: string, mode?: number): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.agentroom-${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(temp, text, { createNew: true, mode: mode ?? 0o644 });
    if (mode !== undefined && Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await Deno.rename(temp, file);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Replaces a file's text the way `setup` does: keeps a backup of an existing
 * file (and its permission bits), creates missing directories, writes
 * atomically.
 *
 * @param file the path
 * @param original its current text (`undefined`: it does not exist)
 * @param text the new text
 * @param options the time for the backup name; `mode` for a new file
 * @returns the backup's path, or `null` for a new file
 * @throws {AgentroomError} when the write fails (the original is unchanged)
 */
export async function replaceFile(
  file: string,
  original: string | undefined,
  text: string,
  options: { now?: Date; mode?: number } = {},
): Promise<string | null> {
  let backup: string | null = null;
  let mode = options.mode;
  if (original !== undefined) {
    const current = (await Deno.stat(file)).mode;
    mode = current === null ? undefined : current & 0o777;
    backup = await writeBackup(file, original, options.now ?? new Date());
  } else {
    await Deno.mkdir(dirname(file), { recursive: true });
  }
  try {
    await writeAtomically(file, text, mode);
  } catch (error) {
    throw new AgentroomError(
      "invalid_value",
      `cannot write ${file}: ${(error as Error).message}` +
        (backup ? ` (the original is unchanged; backup at ${backup})` : ""),
    );
  }
  return backup;
}
