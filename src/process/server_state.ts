/**
 * Where `agentroom server start` records the local Redis it started: a small
 * JSON file in the user's state directory (`$XDG_STATE_HOME/agentroom`, else
 * `~/.local/state/agentroom`; `%LOCALAPPDATA%\agentroom` on Windows). The CLI
 * and the hooks read it to find the server when no Redis is configured.
 *
 * @module
 */

/** Looks up an environment variable (`undefined` when unset). */
type EnvLookup = (name: string) => string | undefined;

// No node:path here: this module is on the hook path, where every module counts.
function join(...parts: string[]): string {
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p)).join(sep);
}

/** What `server start` records about the server it started. */
export interface ServerRecord {
  /** The URL clients use (`redis://127.0.0.1:P` or `unix:///…/redis.sock`). */
  url: string;
  /** The redis-server process id. */
  pid: number;
  /** The data directory (AOF, pid file, log, socket). */
  dir: string;
  /** When it was started (ISO 8601). */
  started_at: string;
}

function value(env: EnvLookup, name: string): string | undefined {
  const v = env(name);
  return v === undefined || v.trim() === "" ? undefined : v;
}

/**
 * The user's agentroom state directory.
 *
 * @param env environment lookup
 * @returns the directory, or `undefined` when no home directory is known
 */
export function stateDir(env: EnvLookup): string | undefined {
  const xdg = value(env, "XDG_STATE_HOME");
  if (xdg) return join(xdg, "agentroom");
  if (Deno.build.os === "windows") {
    const local = value(env, "LOCALAPPDATA");
    if (local) return join(local, "agentroom");
  }
  const home = value(env, "HOME") ?? value(env, "USERPROFILE");
  return home ? join(home, ".local", "state", "agentroom") : undefined;
}

/**
 * The file that records the local server.
 *
 * @param env environment lookup
 */
export function serverRecordPath(env: EnvLookup): string | undefined {
  const dir = stateDir(env);
  return dir ? join(dir, "server.json") : undefined;
}

/**
 * The recorded local server, or `undefined` when none is recorded (or the
 * file cannot be read or is not a record). Synchronous: the hooks call it on
 * their hot path, and it is one small file.
 *
 * @param env environment lookup
 */
export function readServerRecord(env: EnvLookup): ServerRecord | undefined {
  const file = serverRecordPath(env);
  if (!file) return undefined;
  try {
    const parsed = JSON.parse(Deno.readTextFileSync(file));
    if (
      typeof parsed === "object" && parsed !== null && typeof parsed.url === "string" &&
      typeof parsed.pid === "number" && typeof parsed.dir === "string"
    ) {
      return {
        url: parsed.url,
        pid: parsed.pid,
        dir: parsed.dir,
        started_at: String(parsed.started_at ?? ""),
      };
    }
  } catch {
    // no record, or not readable: no recorded server
  }
  return undefined;
}
