/**
 * Test support: a redis-server with AOF (fsync always) in a directory and on
 * a port the test chooses, so it can be killed and restarted with its data.
 *
 * @module
 */
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { until } from "./poll.ts";
import { REDIS_BINARY } from "./redis.ts";

/** Starts a redis-server with AOF (fsync always) in `dir` on `port`; waits for PING. */
export async function aofServer(dir: string, port: number) {
  const child = new Deno.Command(REDIS_BINARY, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `redis://127.0.0.1:${port}`;
  await until("redis up", async () => {
    try {
      const r = await connectRedis(parseRedisUrl(url));
      await r.call(["PING"]);
      await r.close();
      return true;
    } catch {
      return false;
    }
  });
  return { url, child };
}
