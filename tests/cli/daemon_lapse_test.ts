/**
 * The daemon's lapse-notice sweep covers every room of the Redis: a lease
 * that lapsed in a room nobody is looking at gets exactly one LEASE_EXPIRED,
 * however often the sweep runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LAPSE_NOTICE_SWEEP } from "../../src/cli/daemon.ts";
import { roomConfig } from "../../src/config.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { serverPassed } from "../support/coord.ts";
import { uniqueRepo, withRedis } from "../support/redis.ts";

Deno.test("daemon lapse sweep: one LEASE_EXPIRED per lapsed lease, in every room", async () => {
  await withRedis(async (redis) => {
    const rooms = [uniqueRepo("dl"), uniqueRepo("dl")].map((repo) =>
      new Room(redis, roomConfig({ repo, branch: "feature/x:y" }))
    );
    const owner = resolveIdentity("alice", "al1");
    let last = 0;
    for (const room of rooms) {
      const r = await acquireLease(room, {
        agent: owner,
        resources: ["path:src"],
        purpose: "short",
        ttlMs: 30,
      });
      assert.equal(r.outcome, "acquired");
      if (r.outcome === "acquired") last = Math.max(last, r.lease.expires_at);
    }
    await serverPassed(rooms[0]!, last);
    const signal = new AbortController().signal;
    await LAPSE_NOTICE_SWEEP(redis, signal);
    await LAPSE_NOTICE_SWEEP(redis, signal);
    for (const room of rooms) {
      const expired = (await room.recent(50)).filter((e) => e.type === "LEASE_EXPIRED");
      assert.equal(expired.length, 1, `${room.config.repo}: exactly one notice`);
    }
  });
});
