/**
 * The durability option: `WAIT` for replicas after claims and leases, on the
 * connection that ran the script; a timeout is reported (the change stays made),
 * never hidden; the CLI takes it from AGENTROOM_DURABILITY.
 */
import assert from "node:assert/strict";
import { roomConfig } from "../src/config.ts";
import { acquireLease } from "../src/coordination/leases.ts";
import { ReplicationTimeoutError } from "../src/errors.ts";
import { resolveIdentity } from "../src/identity.ts";
import { connectRedis } from "../src/redis/connect.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { Room } from "../src/room.ts";
import { claimTask, registerTask, taskState } from "../src/tasks.ts";
import { runCli } from "./support/cli.ts";
import { until } from "./support/poll.ts";
import { roomKeyCount, shared, startRedis, uniqueRepo, withRedis } from "./support/redis.ts";

const alice = resolveIdentity("alice", "dura0001");

async function task(room: Room): Promise<string> {
  await registerTask(room, { type: "JOB", description: "a job" });
  return (await room.publish({ type: "JOB", agent: alice, payload: 1 })).id;
}

for (const transport of ["resp", "ioredis"] as const) {
  Deno.test(`durability (${transport}): no replica confirms within the timeout: reported, the claim stays made`, async () => {
    const redis = await connectRedis(parseRedisUrl(shared.url), { transport });
    try {
      const config = roomConfig({ repo: uniqueRepo("dura"), branch: "main" }, {
        durabilityReplicas: 1,
        durabilityTimeoutMs: 100,
      });
      const room = new Room(redis, config);
      const id = await task(room);
      const error = await claimTask(room, { taskId: id, agent: alice }).then(
        () => assert.fail("the claim reported no timeout"),
        (e) => e,
      );
      assert.ok(error instanceof ReplicationTimeoutError, String(error));
      assert.equal(error.confirmed, 0);
      assert.equal(error.wanted, 1);
      assert.equal((error.result as { outcome: string }).outcome, "claimed");
      assert.match(error.message, /claim of task .* was made on the primary, but only 0 of 1/);
      assert.equal((await taskState(room, id))?.state, "claimed");
      // a refused change waits for nothing and reports no timeout
      const held = await claimTask(room, { taskId: id, agent: resolveIdentity("bob", "dura0002") });
      assert.equal(held.outcome, "held");
    } finally {
      await redis.close();
    }
  });
}

Deno.test("durability: with a replica, a claim and a lease return once the replica has them", async () => {
  const primary = await startRedis();
  const replica = await startRedis(["--replicaof", primary.host, String(primary.port)]);
  try {
    await until("the replica is in sync", async () => {
      const info = String(await withRedis(primary.url, (r) => r.call(["INFO", "replication"])));
      return /connected_slaves:1/.test(info) && /state=online/.test(info);
    }, 10_000);
    const redis = await connectRedis(parseRedisUrl(primary.url));
    try {
      const room = new Room(
        redis,
        roomConfig({ repo: uniqueRepo("dura"), branch: "main" }, { durabilityReplicas: 1 }),
      );
      const id = await task(room);
      const claimed = await claimTask(room, { taskId: id, agent: alice });
      assert.equal(claimed.outcome, "claimed");
      const lease = await acquireLease(room, {
        agent: alice,
        resources: ["path:src"],
        purpose: "durable",
      });
      assert.equal(lease.outcome, "acquired");
      // WAIT returned: the replica has both, read right away
      const [owner, leases] = await withRedis(
        replica.url,
        (r) => r.pipeline([["GET", room.keys.taskOwner(id)], ["HLEN", room.keys.leases]]),
      );
      assert.equal(owner, alice.agent_id);
      assert.equal(leases, 1);
    } finally {
      await redis.close();
    }
  } finally {
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("durability in the CLI: AGENTROOM_DURABILITY=replica reports the timeout (exit 1); a bad value is a usage error", async () => {
  const repo = uniqueRepo("duracli");
  const env = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_SESSION_ID: "duracli1" };
  const bad = await runCli(["post", "NOTE", "x"], {
    env: { ...env, AGENTROOM_DURABILITY: "maybe" },
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^error: AGENTROOM_DURABILITY must be replica or none, got maybe/);
  const badTimeout = await runCli(["post", "NOTE", "x"], {
    env: { ...env, AGENTROOM_DURABILITY: "replica", AGENTROOM_DURABILITY_TIMEOUT_MS: "-5" },
  });
  assert.equal(badTimeout.code, 2, badTimeout.stderr);
  assert.equal(await roomKeyCount(repo), 0, "a usage error writes nothing");

  assert.equal((await runCli(["register", "JOB", "a job"], { env })).code, 0);
  const posted = await runCli(["post", "JOB", "1", "--json"], { env });
  const id = JSON.parse(posted.stdout).id;
  const r = await runCli(["claim", id], {
    env: { ...env, AGENTROOM_DURABILITY: "replica", AGENTROOM_DURABILITY_TIMEOUT_MS: "100" },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^error: claim of task \S+ was made on the primary, but only 0 of 1 replica\(s\) confirmed it within 100 ms \(WAIT\); a failover now could lose it\n$/,
  );
});
