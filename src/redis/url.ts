/**
 * Parsing of Redis addresses: `redis://` / `rediss://` URLs, Unix-socket URLs
 * (`unix:///path/redis.sock?db=N`, `redis+unix:///path`) and the
 * Go-compatible `host:port` form of the `--addr` flag.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";

/** Where and how to connect to one Redis server. */
export interface RedisEndpoint {
  /** Host name or IP address (IPv6 without brackets); `localhost` for a Unix socket. */
  host: string;
  /** TCP port; `0` for a Unix socket. */
  port: number;
  /** Path of a Unix-domain socket; when set, `host` and `port` are not used. */
  path?: string;
  /** Logical database selected after connecting. */
  db: number;
  /** ACL user name, when the URL names one. */
  username?: string;
  /** Password, when the URL carries one. */
  password?: string;
  /** Whether to speak TLS (`rediss://`). */
  tls: boolean;
  /** The address as a URL with the password replaced by `***`, for messages. */
  display: string;
}

/** Host used when a URL or address names none. */
export const DEFAULT_HOST = "127.0.0.1";
/** Port used when a URL names none. */
export const DEFAULT_PORT = 6379;

const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/;
const DIGITS = /^[0-9]+$/;

/**
 * Parses `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS; `?db=N`
 * is accepted too). Missing parts default to 127.0.0.1, 6379 and db 0.
 * @throws {InvalidValueError} when the URL is malformed; the message never contains the password
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url.trim());
  if (!match) throw invalidUrl("expected redis://host:port or rediss://host:port");
  const scheme = match[1]!.toLowerCase();
  if (scheme === "unix" || scheme === "redis+unix") return parseUnixUrl(match[2]!);
  if (scheme !== "redis" && scheme !== "rediss") {
    throw invalidUrl(
      `unsupported scheme "${scheme}", use redis://, rediss:// or unix:///path/to/redis.sock`,
    );
  }
  let rest = match[2]!;
  const hash = rest.lastIndexOf("#");
  if (hash >= 0 && hash > rest.lastIndexOf("@")) rest = rest.slice(0, hash);

  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(":");
    const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, "user name");
    if (user !== "") username = user;
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), "password");
  }

  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) [rest, query] = [rest.slice(0, q), rest.slice(q + 1)];
  let path = "";
  const slash = rest.indexOf("/");
  if (slash >= 0) [rest, path] = [rest.slice(0, slash), rest.slice(slash + 1)];

  const { host, port } = parseHostPort(rest, DEFAULT_PORT, invalidUrl);
  let db = parseDb(path.replace(/\/$/, ""));
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = eq >= 0 ? pair.slice(0, eq) : pair;
    if (key === "db") db = parseDb(eq >= 0 ? pair.slice(eq + 1) : "");
  }
  const tls = scheme === "rediss";
  return {
    host,
    port,
    db,
    username,
    password,
    tls,
    display: display(scheme, host, port, db, username, password),
  };
}

/**
 * Parses the part after `unix://`: `[user:pass@]/absolute/path[?db=N]`.
 */
function parseUnixUrl(text: string): RedisEndpoint {
  let rest = text;
  const q = rest.indexOf("?");
  let query = "";
  if (q >= 0) [rest, query] = [rest.slice(0, q), rest.slice(q + 1)];
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(":");
    const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, "user name");
    if (user !== "") username = user;
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), "password");
  }
  const path = decode(rest, "socket path");
  if (!path.startsWith("/") || path === "/") {
    throw invalidUrl("expected unix:///absolute/path/to/redis.sock");
  }
  let db = 0;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = eq >= 0 ? pair.slice(0, eq) : pair;
    if (key === "db") db = parseDb(eq >= 0 ? pair.slice(eq + 1) : "");
  }
  let auth = "";
  if (username !== undefined || password !== undefined) {
    auth = `${username === undefined ? "" : encodeURIComponent(username)}${
      password === undefined ? "" : ":***"
    }@`;
  }
  return {
    host: "localhost",
    port: 0,
    path,
    db,
    username,
    password,
    tls: false,
    display: `unix://${auth}${path}${db === 0 ? "" : `?db=${db}`}`,
  };
}

/**
 * Parses the `host:port` form of the Go tool's `--addr` flag (`[::1]:6379`
 * for IPv6; an empty host means 127.0.0.1). The result uses db 0 and no TLS.
 * @throws {InvalidValueError} when the address is malformed
 */
export function endpointFromAddr(addr: string): RedisEndpoint {
  const fail = (problem: string) =>
    new InvalidValueError(`Invalid Redis address "${addr}": ${problem}`);
  const text = addr.trim();
  if (!/:[^:\]]*$/.test(text)) throw fail("expected host:port");
  const { host, port } = parseHostPort(text, undefined, fail);
  return { host, port, db: 0, tls: false, display: display("redis", host, port, 0) };
}

/** Returns `url` with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([^:/]*:\/\/[^:@/]*:)[^@]*@/s, "$1***@");
}

function parseHostPort(
  text: string,
  defaultPort: number | undefined,
  fail: (problem: string) => Error,
): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw fail("unclosed [ in IPv6 host");
    host = text.slice(1, end);
    if (!IPV6.test(host)) throw fail("invalid IPv6 host");
    const after = text.slice(end + 1);
    if (after !== "" && !after.startsWith(":")) throw fail("unexpected text after IPv6 host");
    if (after !== "") portText = after.slice(1);
  } else {
    const colon = text.indexOf(":");
    host = colon >= 0 ? text.slice(0, colon) : text;
    if (colon >= 0) portText = text.slice(colon + 1);
    if (host !== "" && !HOST_NAME.test(host)) throw fail(`invalid host "${host}"`);
  }
  if (host === "") host = DEFAULT_HOST;
  let port = defaultPort;
  if (portText !== undefined) {
    if (!DIGITS.test(portText)) throw fail(`invalid port "${portText}"`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw fail(`port ${portText} is out of range 1-65535`);
  }
  if (port === undefined) throw fail("missing port");
  return { host, port };
}

function parseDb(text: string): number {
  if (text === "") return 0;
  if (!DIGITS.test(text) || text.length > 9) {
    throw invalidUrl(`database "${text}" is not a non-negative integer`);
  }
  return Number(text);
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidUrl(`bad percent-encoding in the ${what}`);
  }
}

function invalidUrl(problem: string): InvalidValueError {
  return new InvalidValueError(`Invalid Redis URL: ${problem}`);
}

function display(
  scheme: string,
  host: string,
  port: number,
  db: number,
  username?: string,
  password?: string,
): string {
  let auth = "";
  if (username !== undefined || password !== undefined) {
    auth = `${username === undefined ? "" : encodeURIComponent(username)}${
      password === undefined ? "" : ":***"
    }@`;
  }
  const h = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${auth}${h}:${port}${db === 0 ? "" : `/${db}`}`;
}
