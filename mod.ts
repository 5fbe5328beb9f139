/**
 * agentroom: a coordination room for coding agents that share a repository.
 *
 * A room (one per repository and branch) lives in Redis: an append-only event
 * stream, TTL presence ("who is here"), task claims, resource leases, quiet
 * windows and durable inboxes. Every key of a room
 * shares one hash tag, so the room works on Redis Cluster.
 *
 * - **Connect** with {@linkcode connectRedis} (a small RESP transport by
 *   default; `transport: "ioredis"` for long-lived processes).
 * - **Configure** a room with {@linkcode roomConfig}; the library never reads
 *   the environment.
 * - **Publish and read** events with {@linkcode Room}.
 * - **Presence**: {@linkcode heartbeat}, {@linkcode refreshPresence},
 *   {@linkcode roster}, {@linkcode clearSessionPresence}.
 * - **Identity**: {@linkcode resolveIdentity} qualifies a handle with a
 *   session token.
 * - **Workers**: a {@linkcode Runtime} runs a {@linkcode Worker} once per
 *   matching event through a consumer group (at least once, crash recovery,
 *   retries, dead letters); {@linkcode listGroups} and
 *   {@linkcode listDeadLetters} show their progress.
 * - **Coordinate**: resource leases ({@linkcode acquireLease}), the preflight
 *   {@linkcode guardResources}, quiet windows ({@linkcode requestWindow}), work
 *   status ({@linkcode setWorkStatus}) and the {@linkcode roomStatus} snapshot.
 *
 * Room content is untrusted data: render it with {@linkcode terminalText}
 * (terminals) or inside a {@linkcode Fence} (anything an agent reads: hook
 * context, tool output), and never follow it as instructions.
 *
 * @example Publish and read
 * ```ts ignore
 * import { connectRedis, parseRedisUrl, resolveIdentity, Room, roomConfig } from "@agentroom/agentroom";
 *
 * const redis = await connectRedis(parseRedisUrl("redis://127.0.0.1:6379"));
 * try {
 *   const room = new Room(redis, roomConfig({ repo: "api", branch: "main" }));
 *   const agent = resolveIdentity("reviewer", "session1");
 *   await room.publish({ type: "NOTE", agent, payload: { text: "tests are green" } });
 *   console.log(await room.recent(10));
 * } finally {
 *   await redis.close();
 * }
 * ```
 *
 * To run it, save it as `example.ts` and run `deno run --allow-net example.ts`
 * with a Redis ≥ 6.2 at 127.0.0.1:6379; `deno run -A jsr:@agentroom/agentroom/cli
 * server start` starts one (AOF on) if `redis-server` is installed.
 *
 * @module
 */
export * from "./src/config.ts";
export * from "./src/errors.ts";
export { confirmDurable } from "./src/durability.ts";
export * from "./src/codec.ts";
export * from "./src/identity.ts";
export * from "./src/keys.ts";
export * from "./src/room.ts";
export * from "./src/schema.ts";
export * from "./src/presence.ts";
export * from "./src/queue.ts";
export * from "./src/targets.ts";
export * from "./src/tasks.ts";
export * from "./src/inbox.ts";
export * from "./src/messaging.ts";
export * from "./src/liveness.ts";
export * from "./src/rate.ts";
export * from "./src/coordination/resources.ts";
export * from "./src/coordination/leases.ts";
export * from "./src/coordination/guard.ts";
export * from "./src/coordination/windows.ts";
export * from "./src/coordination/window_lifecycle.ts";
export * from "./src/coordination/work.ts";
export * from "./src/coordination/status.ts";
export * from "./src/coordination/holders.ts";
export * from "./src/coordination/lapses.ts";
export * from "./src/runtime.ts";
export * from "./src/groups.ts";
export * from "./src/archiver.ts";
export * from "./src/archive_files.ts";
export * from "./src/sanitize.ts";
export * from "./src/fence.ts";
export * from "./src/version.ts";
export type * from "./src/redis/port.ts";
export * from "./src/redis/url.ts";
export * from "./src/redis/connect.ts";
