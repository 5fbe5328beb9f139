import assert from "node:assert/strict";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { shared, uniqueRepo } from "../support/redis.ts";

const BYTES = new Uint8Array([0, 0xff, 0xc3, 0x28, 13, 10, 0x80, 66]);

for (const transport of ["resp", "ioredis"] as const) {
  Deno.test(`callBytes (${transport}): exact bytes, nil, interleaved with text replies, errors`, async () => {
    const redis = await connectRedis(parseRedisUrl(shared.url), { transport });
    try {
      const key = uniqueRepo("bytes");
      await redis.call(["SET", key, BYTES]);
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
      await redis.call(["SET", `${key}:big`, big]);
      // In flight together: only the callBytes replies stay bytes.
      const [text, bytes, bigBytes, missing, after] = await Promise.all([
        redis.call(["ECHO", "héllo"]),
        redis.callBytes(["GET", key]),
        redis.callBytes(["GET", `${key}:big`]),
        redis.callBytes(["GET", `${key}:absent`]),
        redis.call(["ECHO", "after"]),
      ]);
      assert.equal(text, "héllo");
      assert.deepEqual(bytes, BYTES);
      assert.deepEqual(bigBytes, big);
      assert.equal(missing, null);
      assert.equal(after, "after");
      await assert.rejects(redis.callBytes(["INCR", `${key}:n`]), /bulk string/);
      await assert.rejects(redis.callBytes(["INCR", key]), /not an integer/);
      assert.equal(await redis.call(["ECHO", "still fine"]), "still fine");
      await redis.call(["DEL", key, `${key}:big`, `${key}:n`]);
    } finally {
      await redis.close();
    }
  });
}
