/**
 * Chaos scenario: Redis Cluster failover. A local 3-master + 3-replica
 * cluster (`--cluster-enabled yes`, `redis-cli --cluster create
 * --cluster-replicas 1`); writers claim tasks and acquire leases in one room
 * while the master that owns the room's slot is killed with SIGKILL; a
 * replica takes over. Then every acknowledged claim and lease is looked up on
 * the new master. Run twice: with the durability option off and on
 * (`durabilityReplicas: 1`, WAIT after each change), each on a fresh cluster.
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { ReplicationTimeoutError } from "../../src/errors.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { clusterSlot, roomKeys } from "../../src/keys.ts";
import { connectIoredisCluster } from "../../src/redis/ioredis.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { claimTask } from "../../src/tasks.ts";
import {
  allEvents,
  n,
  type Profile,
  type Row,
  type Server,
  sleep,
  startServer,
  track,
} from "./_lib.ts";
import { publishTasks } from "./claims.ts";

/** Sizes per profile. */
export const CLUSTER_SIZES = {
  short: { writers: 4, beforeMs: 800, afterMs: 3_000, tasks: 8_000 },
  full: { writers: 8, beforeMs: 2_000, afterMs: 6_000, tasks: 30_000 },
} as const;

interface Cluster {
  nodes: Server[];
  stop(): Promise<void>;
}

async function clusterNodes(url: string): Promise<string> {
  const port = await connectIoredisCluster([parseRedisUrl(url)]).catch(() => undefined);
  if (port) await port.close();
  const out = await new Deno.Command("redis-cli", {
    args: ["-u", url, "CLUSTER", "NODES"],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(5_000),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** Starts 6 nodes and forms a 3-master + 3-replica cluster; waits until it is ok and in sync. */
export async function startReplicatedCluster(): Promise<Cluster> {
  const nodes = await Promise.all(Array.from({ length: 6 }, () =>
    startServer([
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-node-timeout",
      "1000",
      "--cluster-announce-ip",
      "127.0.0.1",
      "--appendonly",
      "no",
    ])));
  const stop = async () => void await Promise.all(nodes.map((s) => s.stop()));
  const create = await track(
    new Deno.Command("redis-cli", {
      args: [
        "--cluster",
        "create",
        ...nodes.map((s) => `127.0.0.1:${s.port}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).spawn(),
  ).output();
  if (!create.success) {
    await stop();
    throw new Error(
      `redis-cli --cluster create failed: ${new TextDecoder().decode(create.stderr)}`,
    );
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const table = await clusterNodes(nodes[0]!.url);
    const lines = table.trim().split("\n");
    const masters = lines.filter((l) => l.split(" ")[2]!.includes("master"));
    const replicas = lines.filter((l) => l.split(" ")[2]!.includes("slave"));
    const infos = await Promise.all(nodes.map((s) => redisCli(s.url, ["INFO", "replication"])));
    const synced = infos.filter((i) => /master_link_status:up/.test(i)).length;
    const states = await Promise.all(nodes.map((s) => redisCli(s.url, ["CLUSTER", "INFO"])));
    if (
      masters.length === 3 && replicas.length === 3 && synced === 3 &&
      states.every((s) => /cluster_state:ok/.test(s))
    ) {
      return { nodes, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the cluster did not settle within 30 s:\n${table}`);
    }
    await sleep(200);
  }
}

async function redisCli(url: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-u", url, ...args],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(5_000),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** The port of the master that serves `slot`, from CLUSTER NODES. */
async function ownerOf(url: string, slot: number): Promise<number> {
  for (const line of (await clusterNodes(url)).trim().split("\n")) {
    const f = line.split(" ");
    if (!f[2]!.includes("master") || f[2]!.includes("fail")) continue;
    for (const range of f.slice(8)) {
      if (range.startsWith("[")) continue;
      const [from, to = from] = range.split("-").map(Number) as [number, number?];
      if (from <= slot && slot <= to!) return Number(f[1]!.split("@")[0]!.split(":").at(-1));
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

/** One failover run: what was acknowledged and what the new master still has. */
interface FailoverRun {
  durable: boolean;
  ackedClaims: number;
  lostClaims: number;
  reclaimed: number;
  ackedLeases: number;
  lostLeases: number;
  timeouts: number;
  errors: number;
  failoverMs: number;
}

async function failoverRun(profile: Profile, durable: boolean): Promise<FailoverRun> {
  const size = CLUSTER_SIZES[profile];
  const cluster = await startReplicatedCluster();
  try {
    const repo = `chaos-cl-${crypto.randomUUID().slice(0, 8)}`;
    const overrides = durable ? { durabilityReplicas: 1, durabilityTimeoutMs: 500 } : {};
    const config = roomConfig({ repo, branch: "main" }, overrides);
    const slot = clusterSlot(roomKeys({ repo, branch: "main" }).events);
    const masterPort = await ownerOf(cluster.nodes[0]!.url, slot);
    const master = cluster.nodes.find((s) => s.port === masterPort)!;
    const seeds = () =>
      cluster.nodes.filter((s) => s !== master || s.pid !== undefined).map((s) =>
        parseRedisUrl(s.url)
      );
    const setup = await connectIoredisCluster(seeds());
    const ids = await publishTasks(
      new Room(setup, roomConfig({ repo, branch: "main" })),
      size.tasks,
    );
    await setup.close();

    let stop = false;
    let next = 0;
    const claims: { task: string; agent: string }[] = [];
    const leases: { id: string }[] = [];
    let timeouts = 0;
    let errors = 0;
    const writer = async (w: number) => {
      let port: RedisPort | undefined;
      let seq = 0;
      while (!stop && next < ids.length) {
        const agent = resolveIdentity(`cl${w}`, `chaoscl${w}`);
        try {
          port ??= await connectIoredisCluster(seeds(), {
            connectTimeoutMs: 500,
            commandTimeoutMs: 2_000,
          });
          const room = new Room(port, config);
          const task = ids[next++]!;
          const c = await claimTask(room, { taskId: task, agent, ttlMs: 600_000 });
          if (c.outcome === "claimed") claims.push({ task, agent: agent.agent_id });
          const l = await acquireLease(room, {
            agent,
            resources: [`path:w${w}/${seq++}`],
            purpose: "failover",
            ttlMs: 600_000,
          });
          if (l.outcome === "acquired") leases.push({ id: l.lease.id });
          await sleep(1); // a steady load that lasts through the failover
        } catch (error) {
          if (error instanceof ReplicationTimeoutError) timeouts++;
          else errors++;
          await port?.close().catch(() => {});
          port = undefined;
          await sleep(50);
        }
      }
      await port?.close().catch(() => {});
    };
    const writers = Array.from({ length: size.writers }, (_, w) => writer(w));
    let failoverMs = 0;
    try {
      await sleep(size.beforeMs);
      const killedAt = performance.now();
      await master.kill9();
      // wait until another master serves the slot
      for (;;) {
        const live = cluster.nodes.find((s) => s.pid !== undefined)!;
        const owner = await ownerOf(live.url, slot).catch(() => masterPort);
        if (owner !== masterPort) break;
        if (performance.now() - killedAt > 20_000) throw new Error("no failover within 20 s");
        await sleep(100);
      }
      failoverMs = performance.now() - killedAt;
      await sleep(size.afterMs);
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    // what the new master has
    const port = await connectIoredisCluster(seeds());
    let lostClaims = 0;
    let lostLeases = 0;
    let reclaimed = 0;
    try {
      const room = new Room(port, roomConfig({ repo, branch: "main" }));
      const events = await allEvents(room);
      const audited = new Set(
        events.filter((e) => e.type === "TASK_CLAIMED").map((e) => `${e.reply_to} ${e.agent_id}`),
      );
      const owners = await port.pipeline(claims.map((c) => ["GET", room.keys.taskOwner(c.task)]));
      const lost = claims.filter((c, i) =>
        owners[i] !== c.agent || !audited.has(`${c.task} ${c.agent}`)
      );
      lostClaims = lost.length;
      // a lost claim is a task another agent can now win: a second holder
      const thief = resolveIdentity("thief", "chaosthief");
      for (const c of lost) {
        const r = await claimTask(room, { taskId: c.task, agent: thief, ttlMs: 60_000 });
        if (r.outcome === "claimed") reclaimed++;
      }
      const present = await port.pipeline(leases.map((l) => ["HEXISTS", room.keys.leases, l.id]));
      lostLeases = present.filter((p) => p !== 1).length;
    } finally {
      await port.close();
    }
    return {
      durable,
      ackedClaims: claims.length,
      lostClaims,
      reclaimed,
      ackedLeases: leases.length,
      lostLeases,
      timeouts,
      errors,
      failoverMs,
    };
  } finally {
    await cluster.stop();
  }
}

/** Runs the failover scenario with the durability option off and on. */
export async function clusterScenario(profile: Profile): Promise<Row[]> {
  const rows: Row[] = [];
  for (const durable of [false, true]) {
    const r = await failoverRun(profile, durable);
    const option = durable ? "on (WAIT 1 500)" : "off";
    rows.push({
      scenario: "cluster",
      check:
        `master kill -9 and failover, durability option ${option}: acknowledged claims and leases lost`,
      volume: `3 masters + 3 replicas, ${CLUSTER_SIZES[profile].writers} writers; ${
        n(r.ackedClaims)
      } acknowledged claims, ${n(r.ackedLeases)} acknowledged leases; failover took ${
        (r.failoverMs / 1000).toFixed(1)
      } s`,
      // measured, not a pass/fail check: Redis replication is asynchronous
      violations: null,
      examples: [],
      note:
        `${r.lostClaims} claims and ${r.lostLeases} leases lost; ${r.reclaimed} lost claims won again by another agent; ${r.timeouts} WAIT timeouts reported; ${r.errors} calls failed during the failover`,
    });
  }
  return rows;
}
