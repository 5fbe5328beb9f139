import assert from "node:assert/strict";
import { roomConfig } from "../src/config.ts";
import { resolveIdentity } from "../src/identity.ts";
import { connectRedis } from "../src/redis/connect.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { Room } from "../src/room.ts";
import { Runtime } from "../src/runtime.ts";
import { aofServer } from "./support/aof.ts";
import { until } from "./support/poll.ts";
import { closedPort } from "./support/redis.ts";

Deno.test("Runtime: Redis killed (-9) and restarted with AOF between publish and consume loses no event", async () => {
  const dir = await Deno.makeTempDir();
  const port = closedPort();
  const agent = resolveIdentity("p", "s1");
  const config = roomConfig({ repo: "aof", branch: "main" });
  let server = await aofServer(dir, port);
  const ids: string[] = [];
  try {
    let redis = await connectRedis(parseRedisUrl(server.url));
    let room = new Room(redis, config);
    const seen: string[] = [];
    const worker = {
      id: "aof",
      interests: ["*"],
      execute: (e: { id: string }) => void seen.push(e.id),
    };
    await new Runtime(room, worker).ensureGroup();
    for (let i = 0; i < 20; i++) {
      ids.push((await room.publish({ type: "JOB", agent, payload: i })).id);
    }
    // Five were delivered to a consumer that never acked them.
    await redis.call([
      "XREADGROUP",
      "GROUP",
      "aof",
      "w1",
      "COUNT",
      5,
      "STREAMS",
      room.keys.events,
      ">",
    ]);
    await redis.close();
    server.child.kill("SIGKILL");
    await server.child.status;
    server = await aofServer(dir, port);
    redis = await connectRedis(parseRedisUrl(server.url));
    room = new Room(redis, config);
    const stop = new AbortController();
    const done = new Runtime(room, worker, { consumer: "w1", blockMs: 50 }).listen(stop.signal);
    await until("all executed", () => Promise.resolve(seen.length >= 20));
    stop.abort();
    await done;
    assert.deepEqual(seen, ids);
    const pending = await redis.call(["XPENDING", room.keys.events, "aof"]) as unknown[];
    assert.equal(pending[0], 0);
    await redis.close();
  } finally {
    server.child.kill("SIGTERM");
    await server.child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
