/**
 * Resources: the things leases and quiet windows reserve, written
 * `<kind>:<name>`, e.g. `path:src/db`, `db:staging`, `service:api`.
 *
 * - The kind is `[a-z][a-z0-9_-]*` (at most 32 characters).
 * - `path:` names are clean repository-relative paths with `/` separators:
 *   no leading `/` or drive letter, no backslash, no empty, `.` or `..`
 *   segment, no wildcard (`*`, `?`: there are no globs; lease the directory).
 *   Brackets and braces are plain characters (`path:app/[id]/page.tsx`).
 *   One trailing `/` is dropped (`path:src/` is `path:src`).
 * - Other names are opaque text without control characters.
 *
 * Two resources overlap when they are equal, or when both are paths and one
 * is an ancestor directory of the other (`path:src` and `path:src/db/x.sql`);
 * siblings and prefixes that are not ancestors (`path:src/a`, `path:src/ab`)
 * do not. The Lua scripts apply the same rule (`src/lua/_coord.lua`); this
 * module is its TypeScript twin for callers, explanations and tests.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";

/** Longest accepted resource, in characters. */
export const MAX_RESOURCE_LENGTH = 512;
/** Most resources one lease or window may name. */
export const MAX_RESOURCES = 64;

const KIND = /^[a-z][a-z0-9_-]{0,31}$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const GLOB = /[*?]/;

function invalid(resource: string, why: string): InvalidValueError {
  return new InvalidValueError(`Invalid resource ${JSON.stringify(resource)}: ${why}`);
}

/**
 * Checks and normalises one resource.
 *
 * @param resource text such as `path:src/db` or `db:staging`
 * @returns the normalised resource (a trailing `/` of a path dropped)
 * @throws {InvalidValueError} when it is not `<kind>:<name>` or breaks the path rules
 */
export function parseResource(resource: string): string {
  const colon = resource.indexOf(":");
  if (colon <= 0) throw invalid(resource, "expected <kind>:<name>, e.g. path:src/db or db:main");
  const kind = resource.slice(0, colon);
  let name = resource.slice(colon + 1);
  if (!KIND.test(kind)) {
    throw invalid(resource, `kind ${JSON.stringify(kind)} must match [a-z][a-z0-9_-]*`);
  }
  if (CONTROL.test(name)) throw invalid(resource, "the name has control characters");
  if (kind === "path") name = checkPath(resource, name);
  if (name === "") throw invalid(resource, "the name is empty");
  const out = `${kind}:${name}`;
  if (Array.from(out).length > MAX_RESOURCE_LENGTH) {
    throw invalid(resource, `longer than ${MAX_RESOURCE_LENGTH} characters`);
  }
  return out;
}

function checkPath(resource: string, raw: string): string {
  const name = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  if (name === "") throw invalid(resource, "the path is empty");
  if (raw.startsWith("/") || /^[A-Za-z]:(\/|$)/.test(raw)) {
    throw invalid(resource, "paths are relative to the repository root, e.g. path:src/db");
  }
  if (raw.includes("\\")) throw invalid(resource, "use / as the path separator");
  if (GLOB.test(name)) {
    throw invalid(resource, "wildcards are not supported; lease the directory instead");
  }
  const segments = name.split("/");
  if (segments.includes("")) throw invalid(resource, "the path has an empty segment (//)");
  if (segments.some((s) => s === "." || s === "..")) {
    throw invalid(resource, "write the path without . or .. segments");
  }
  return name;
}

/**
 * Checks and normalises a list of resources: each is parsed, then the list
 * is de-duplicated and sorted.
 *
 * @param resources one or more resources
 * @returns the normalised, sorted, unique list
 * @throws {InvalidValueError} when the list is empty, too long, or a resource is invalid
 */
export function normalizeResources(resources: readonly string[]): string[] {
  if (resources.length === 0) {
    throw new InvalidValueError("Cannot reserve resources: at least one resource is required");
  }
  const unique = [...new Set(resources.map(parseResource))].sort(byCodeUnit);
  if (unique.length > MAX_RESOURCES) {
    throw new InvalidValueError(
      `Cannot reserve resources: at most ${MAX_RESOURCES} per request, got ${unique.length}`,
    );
  }
  return unique;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isPath(resource: string): boolean {
  return resource.startsWith("path:");
}

/**
 * Whether two normalised resources conflict: equal, or both paths with one
 * an ancestor directory of the other.
 *
 * @param a a normalised resource
 * @param b another
 * @returns true when a lease on one excludes a lease on the other
 */
export function overlaps(a: string, b: string): boolean {
  if (a === b) return true;
  if (!isPath(a) || !isPath(b)) return false;
  return a.startsWith(b + "/") || b.startsWith(a + "/");
}

/**
 * Whether holding `held` covers `requested`: equal, or `held` is a path and
 * an ancestor directory of the path `requested`.
 *
 * @param held a resource held (normalised)
 * @param requested a resource about to be used (normalised)
 * @returns true when `held` includes all of `requested`
 */
export function covers(held: string, requested: string): boolean {
  return held === requested || (isPath(held) && isPath(requested) &&
    requested.startsWith(held + "/"));
}
