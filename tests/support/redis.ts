/**
 * Test support: one real `redis-server` per test process, started by
 * redis-memory-server from the OS binary, plus helpers for unique rooms.
 *
 * @module
 */
import { RedisMemoryServer } from "redis-memory-server";
import { roomKeys } from "../../src/keys.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";

/** Path of the system redis-server used by redis-memory-server. */
export const REDIS_BINARY = Deno.env.get("REDISMS_SYSTEM_BINARY") ?? "/usr/bin/redis-server";

/** Starts a throwaway redis-server; `args` are extra server arguments. */
export async function startRedis(args: string[] = []): Promise<StartedRedis> {
  const server = new RedisMemoryServer({
    binary: { systemBinary: REDIS_BINARY },
    instance: { args: ["--save", "", "--appendonly", "no", ...args] },
  });
  const host = await server.getHost();
  const port = await server.getPort();
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    stop: async () => {
      await server.stop();
    },
  };
}

/** A running throwaway server. */
export interface StartedRedis {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** The shared server of this test process, started once at first import. */
export const shared: StartedRedis = await startRedis();
globalThis.addEventListener("unload", () => {
  shared.stop();
});

/** A unique repo name so every test has its own room (its own hash tag). */
export function uniqueRepo(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

/** A TCP port on loopback where nothing listens. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs `fn` with a fresh port to the shared server, closing it afterwards. */
export async function withRedis<T>(fn: (redis: RedisPort) => Promise<T>): Promise<T>;
/** Runs `fn` with a fresh port to the server at `url`, closing it afterwards. */
export async function withRedis<T>(
  url: string,
  fn: (redis: RedisPort) => Promise<T>,
): Promise<T>;
export async function withRedis<T>(
  first: string | ((redis: RedisPort) => Promise<T>),
  second?: (redis: RedisPort) => Promise<T>,
): Promise<T> {
  const [url, fn] = typeof first === "string" ? [first, second!] : [shared.url, first];
  const redis = await connectRedis(parseRedisUrl(url));
  try {
    return await fn(redis);
  } finally {
    await redis.close();
  }
}

/** How many keys a room (`repo`, branch `main`) has on the shared server. */
export async function roomKeyCount(repo: string): Promise<number> {
  return await withRedis(async (redis) => {
    const keys = await redis.call(["KEYS", `${roomKeys({ repo, branch: "main" }).prefix}:*`]);
    return (keys as string[]).length;
  });
}
