/**
 * Agent identity: handles, session tokens and their qualification.
 *
 * An agent id is `<handle>-<token>`, where the token names the session
 * (Claude Code session, Codex thread, terminal) so two sessions using the same
 * handle never share an identity. Qualification is idempotent, and
 * destinations (`--to`) are never qualified with the sender's token.
 *
 * @module
 */
import { InvalidValueError } from "./errors.ts";

/** The identity fields stored with presence and events. */
export interface AgentIdentity {
  /** The qualified id, e.g. `reviewer-1a2b3c4d`. */
  agent_id: string;
  /** The handle without the token (empty when the id is the bare token). */
  handle: string;
  /** The session token. */
  session_id: string;
}

/** Where a session token can come from, highest priority first. */
export interface SessionSources {
  /** `AGENTROOM_SESSION_ID` */
  agentroomSessionId?: string;
  /** `CLAUDE_CODE_SESSION_ID` (what Claude Code exports to hooks and its Bash tool) */
  claudeCodeSessionId?: string;
  /** `CLAUDE_SESSION_ID` */
  claudeSessionId?: string;
  /** `CODEX_THREAD_ID` */
  codexThreadId?: string;
  /** `TERM_SESSION_ID` */
  termSessionId?: string;
  /** Host name, for the `<host>-<ppid>` fallback. */
  hostname?: string;
  /** Parent process id, for the `<host>-<ppid>` fallback. */
  ppid?: number;
}

/** The default handle when none is given. */
export const DEFAULT_HANDLE = "cli";

/** Longest accepted handle, in characters. */
export const MAX_HANDLE_LENGTH = 100;

/**
 * Replaces characters that break ids or key patterns (`:` `*` `?` `[` `]`,
 * whitespace and control characters) and characters that reorder or hide
 * text (bidi controls, zero-width characters) with `-`. Other characters are kept.
 *
 * @param handle raw handle
 * @returns the sanitised handle
 */
export function sanitizeHandle(handle: string): string {
  return handle.replace(
    // deno-lint-ignore no-control-regex
    /[:*?[\]\s\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu,
    "-",
  );
}

/** A session id kept as its own token: short, and only letters, digits, `.`, `_`, `-`. */
const PLAIN_TOKEN = /^[A-Za-z0-9._-]{1,16}$/;

/**
 * The token of a session id, derived from the whole id: a short id made of
 * safe characters is kept as it is (`s1`, `reviewer-2`); anything else (a
 * UUID, a terminal id) becomes 12 hex digits of its 64-bit FNV-1a hash. Never
 * a prefix: Codex ids are UUIDv7, whose first digits are a timestamp that two
 * sessions started in the same minute share. Empty gives `session`.
 *
 * @param id a session id as the harness gives it
 * @returns the token
 */
export function sessionTokenOf(id: string): string {
  const text = id.trim();
  if (text === "") return "session";
  if (PLAIN_TOKEN.test(text)) return text;
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0").slice(0, 12);
}

/**
 * Picks the session token: the first non-empty of `AGENTROOM_SESSION_ID`,
 * `CLAUDE_CODE_SESSION_ID`, `CLAUDE_SESSION_ID`, `CODEX_THREAD_ID`,
 * `TERM_SESSION_ID` (through {@linkcode sessionTokenOf}), else
 * `<host>-<ppid>`. The result is sanitised like a handle.
 *
 * @param sources candidate values
 * @returns the session token
 */
export function sessionToken(sources: SessionSources): string {
  const explicit = [
    sources.agentroomSessionId,
    sources.claudeCodeSessionId,
    sources.claudeSessionId,
    sources.codexThreadId,
    sources.termSessionId,
  ].find((value) => value !== undefined && value.trim() !== "");
  if (explicit !== undefined) return sanitizeHandle(sessionTokenOf(explicit));
  const host = sources.hostname?.trim() || DEFAULT_HANDLE;
  return sanitizeHandle(`${host}-${sources.ppid ?? 0}`);
}

/**
 * Qualifies a handle with the session token: `<handle>-<token>`. An empty
 * handle yields the bare token; a handle that already ends with `-<token>`
 * (or equals it) is returned unchanged.
 *
 * @param handle raw handle
 * @param token session token
 * @returns the qualified agent id
 * @throws {InvalidValueError} when the handle is longer than {@linkcode MAX_HANDLE_LENGTH}
 */
export function qualifyAgent(handle: string, token: string): string {
  const clean = sanitizeHandle(handle.trim());
  if (Array.from(clean).length > MAX_HANDLE_LENGTH) {
    throw new InvalidValueError(
      `Cannot use agent handle: longer than ${MAX_HANDLE_LENGTH} characters`,
    );
  }
  if (clean === "") return token;
  if (clean === token || clean.endsWith(`-${token}`)) return clean;
  return `${clean}-${token}`;
}

/**
 * Strips the session token from a qualified id.
 *
 * @param agentId qualified id
 * @param token session token
 * @returns the handle, or `""` when the id is the bare token
 */
export function agentHandle(agentId: string, token: string): string {
  if (agentId === token) return "";
  const suffix = `-${token}`;
  return agentId.endsWith(suffix) ? agentId.slice(0, -suffix.length) : agentId;
}

/**
 * Resolves the full identity of an actor from a raw handle and a token.
 *
 * @param handle raw handle (empty → {@linkcode DEFAULT_HANDLE})
 * @param token session token
 * @returns the identity
 */
export function resolveIdentity(handle: string, token: string): AgentIdentity {
  const agentId = qualifyAgent(handle.trim() === "" ? DEFAULT_HANDLE : handle, token);
  return { agent_id: agentId, handle: agentHandle(agentId, token), session_id: token };
}
