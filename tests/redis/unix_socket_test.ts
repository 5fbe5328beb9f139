/**
 * Unix-socket URLs work in both transports, against a real redis-server
 * listening on a socket.
 */
import assert from "node:assert/strict";
import { RedisUnavailableError } from "../../src/errors.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { REDIS_BINARY } from "../support/redis.ts";
import { until } from "../support/poll.ts";

Deno.test("both transports talk to Redis over a Unix socket, db included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ar-sock-" });
  const sock = `${dir}/redis.sock`;
  const child = new Deno.Command(REDIS_BINARY, {
    args: ["--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await until("the socket", async () => await Deno.stat(sock).then(() => true, () => false));
    for (const transport of ["resp", "ioredis"] as const) {
      const port = await connectRedis(parseRedisUrl(`unix://${sock}?db=2`), { transport });
      try {
        await port.call(["SET", `k-${transport}`, "v"]);
        assert.equal(await port.call(["GET", `k-${transport}`]), "v");
        const info = String(await port.call(["CLIENT", "INFO"]));
        assert.match(info, /db=2/);
      } finally {
        await port.close();
      }
    }
    await assert.rejects(
      connectRedis(parseRedisUrl(`unix://${dir}/missing.sock`)),
      RedisUnavailableError,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
