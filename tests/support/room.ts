/**
 * Test support: a Room on the shared test server, in its own unique room.
 *
 * @module
 */
import { roomConfig, type RoomTunables } from "../../src/config.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { shared, uniqueRepo } from "./redis.ts";

/** Opens a fresh room (unique repo) and runs `fn`, closing the port afterwards. */
export async function withRoom(
  fn: (room: Room, redis: RedisPort) => Promise<void>,
  options: { tunables?: Partial<RoomTunables>; transport?: "resp" | "ioredis" } = {},
): Promise<void> {
  const redis = await connectRedis(parseRedisUrl(shared.url), { transport: options.transport });
  try {
    const room = new Room(
      redis,
      roomConfig({ repo: uniqueRepo(), branch: "main" }, options.tunables),
    );
    await fn(room, redis);
  } finally {
    await redis.close();
  }
}
