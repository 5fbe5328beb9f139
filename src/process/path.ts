/**
 * The few path operations agentroom needs, without `node:path` (importing it
 * starts Deno's Node compatibility layer, which costs a hook ~6 ms per run).
 * Handles POSIX paths and, on Windows, `\` separators and drive letters.
 *
 * @module
 */

const WINDOWS = Deno.build.os === "windows";

function isSep(ch: string | undefined): boolean {
  return ch === "/" || (WINDOWS && ch === "\\");
}

function split(path: string): string[] {
  return path.split(WINDOWS ? /[\\/]+/ : /\/+/).filter((p) => p !== "");
}

/** The root of an absolute path (`/`, or `C:\` on Windows), else `""`. */
function rootOf(path: string): string {
  if (WINDOWS && /^[A-Za-z]:[\\/]/.test(path)) return path.slice(0, 2) + "\\";
  return isSep(path[0]) ? (WINDOWS ? "\\" : "/") : "";
}

/** Whether `path` is absolute. */
export function isAbsolutePath(path: string): boolean {
  return rootOf(path) !== "";
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

/**
 * Joins `path` onto `base` (when `path` is relative) and removes `.`/`..`.
 *
 * @param base an absolute directory
 * @param path absolute, or relative to `base`
 * @returns the absolute, normalised path
 */
export function resolvePath(base: string, path = ""): string {
  const full = isAbsolutePath(path) ? path : `${base}${WINDOWS ? "\\" : "/"}${path}`;
  const root = rootOf(full);
  const parts = normalizeParts(split(full.slice(root.length)));
  return root + parts.join(WINDOWS ? "\\" : "/");
}

/** The parent directory of an absolute, normalised path (the root's parent is itself). */
export function parentPath(path: string): string {
  const root = rootOf(path);
  const parts = split(path.slice(root.length));
  return root + parts.slice(0, -1).join(WINDOWS ? "\\" : "/");
}

/** The last segment of a path (`""` for a root). */
export function lastSegment(path: string): string {
  return split(path).at(-1) ?? "";
}

/** `dir` joined with one child name. */
export function childPath(dir: string, name: string): string {
  return isSep(dir.at(-1)) ? dir + name : `${dir}${WINDOWS ? "\\" : "/"}${name}`;
}

/**
 * `path` relative to `base` with `/` separators, or `undefined` when `path`
 * is not inside `base` (or is `base` itself).
 *
 * @param base an absolute directory
 * @param path an absolute path
 */
export function pathInside(base: string, path: string): string | undefined {
  const b = resolvePath(base);
  const p = resolvePath(path);
  const bRoot = rootOf(b);
  const pRoot = rootOf(p);
  const same = (x: string, y: string) => WINDOWS ? x.toLowerCase() === y.toLowerCase() : x === y;
  if (!same(bRoot, pRoot)) return undefined;
  const bParts = split(b.slice(bRoot.length));
  const pParts = split(p.slice(pRoot.length));
  if (pParts.length <= bParts.length) return undefined;
  if (!bParts.every((part, i) => same(part, pParts[i]!))) return undefined;
  return pParts.slice(bParts.length).join("/");
}
