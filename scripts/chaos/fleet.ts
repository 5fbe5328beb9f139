/**
 * Fleet simulation: 1,000 simulated agents across 100 rooms on a local Redis
 * Cluster (3 masters + 3 replicas), in a few worker processes with one
 * connection per agent (`fleet_worker.ts`). Measures p50/p99 latency of
 * presence refreshes, the hook path's reads, claims and lease changes, against
 * a single agent doing the same on the same idle cluster, and Redis memory per
 * room. Prints a Markdown section for BENCHMARKS.md.
 *
 * ```sh
 * deno run -A scripts/chaos/fleet.ts [--agents 1000] [--rooms 100] [--processes 4] [--seconds 20]
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { roomConfig } from "../../src/config.ts";
import { clusterSlot, roomKeys } from "../../src/keys.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { n, runWorkers, stopEverything } from "./_lib.ts";
import { publishTasks } from "./claims.ts";
import { startReplicatedCluster } from "./cluster.ts";
import type { FleetOrders, FleetReport } from "./fleet_worker.ts";

const WORKER = fileURLToPath(new URL("./fleet_worker.ts", import.meta.url));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** The master URL serving each slot, from CLUSTER SLOTS. */
async function slotOwners(url: string): Promise<(slot: number) => string> {
  const redis = await connectRedis(parseRedisUrl(url));
  try {
    const slots = await redis.call(["CLUSTER", "SLOTS"]) as [number, number, [string, number]][];
    return (slot) => {
      const range = slots.find(([from, to]) => from <= slot && slot <= to);
      if (!range) throw new Error(`no master for slot ${slot}`);
      return `redis://127.0.0.1:${range[2][1]}`;
    };
  } finally {
    await redis.close();
  }
}

/** Runs the simulation and returns the Markdown section. */
export async function fleet(
  options: { agents: number; rooms: number; processes: number; seconds: number },
): Promise<string> {
  const cluster = await startReplicatedCluster();
  try {
    const owner = await slotOwners(cluster.nodes[0]!.url);
    const run = crypto.randomUUID().slice(0, 6);
    const rooms = await Promise.all(Array.from({ length: options.rooms }, async (_, i) => {
      const repo = `fleet-${run}-${i}`;
      const url = owner(clusterSlot(roomKeys({ repo, branch: "main" }).events));
      const redis = await connectRedis(parseRedisUrl(url));
      try {
        const tasks = await publishTasks(new Room(redis, roomConfig({ repo, branch: "main" })), 20);
        return { repo, url, tasks };
      } finally {
        await redis.close();
      }
    }));
    const orders = (thinkMs: number, agents: FleetOrders["agents"]): FleetOrders => ({
      agents,
      durationMs: options.seconds * 1000,
      thinkMs,
    });

    // the baseline: one agent alone on the same cluster, no think time
    const [single] = await runWorkers<FleetReport>(
      WORKER,
      1,
      () => ["single"],
      () => ({ ...orders(0, [rooms[0]!]), durationMs: Math.min(10_000, options.seconds * 500) }),
      120_000,
    );
    // the fleet: agents spread over the rooms and the processes, ~1 operation per second each
    const all = Array.from({ length: options.agents }, (_, i) => rooms[i % rooms.length]!);
    const per = Math.ceil(all.length / options.processes);
    const reports = await runWorkers<FleetReport>(
      WORKER,
      options.processes,
      (i) => [String(i)],
      (i) => orders(1_000, all.slice(i * per, (i + 1) * per)),
      options.seconds * 1000 + 120_000,
    );
    const merged: FleetReport = {};
    for (const r of reports) {
      for (const [op, v] of Object.entries(r)) (merged[op] ??= []).push(...v);
    }

    // memory per room: MEMORY USAGE of every key of each room, on its master
    const perRoom: number[] = [];
    for (const room of rooms) {
      const redis = await connectRedis(parseRedisUrl(room.url));
      try {
        const prefix = roomKeys({ repo: room.repo, branch: "main" }).prefix;
        const keys = await redis.call(["KEYS", `${prefix}:*`]) as string[];
        const sizes = await redis.pipeline(keys.map((k) => ["MEMORY", "USAGE", k, "SAMPLES", "0"]));
        perRoom.push(sizes.reduce<number>((s, v) => s + (typeof v === "number" ? v : 0), 0));
      } finally {
        await redis.close();
      }
    }
    const ops = ["presence", "hookRead", "claim", "lease"];
    const label: Record<string, string> = {
      presence: "presence refresh",
      hookRead: "hook-path reads (snapshot + recent + inbox)",
      claim: "claim (2 s TTL, contended)",
      lease: "lease acquire/release",
    };
    const rows = ops.map((op) => {
      const f = merged[op] ?? [];
      const s = single![op] ?? [];
      return `| ${label[op]} | ${n(f.length)} | ${percentile(f, 50).toFixed(2)} | ${
        percentile(f, 99).toFixed(2)
      } | ${percentile(s, 50).toFixed(2)} | ${percentile(s, 99).toFixed(2)} | ${
        (percentile(f, 99) / percentile(s, 99)).toFixed(1)
      }× |`;
    });
    const total = Object.values(merged).reduce((s, v) => s + v.length, 0);
    const kb = (b: number) => (b / 1024).toFixed(1);
    return [
      `### Fleet simulation on a local Redis Cluster (\`deno run -A scripts/chaos/fleet.ts\`)`,
      "",
      `${
        n(options.agents)
      } simulated agents in ${options.rooms} rooms, ${options.processes} processes, one RESP connection per agent to its room's master, about one operation per agent per second for ${options.seconds} s (${
        n(total)
      } operations); the single agent runs the same mix alone, back to back, on the same cluster (3 masters + 3 replicas, all on this machine).`,
      "",
      "| operation | fleet ops | fleet p50 ms | fleet p99 ms | single p50 ms | single p99 ms | p99 ÷ single |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...rows,
      "",
      `Redis memory per room after the run (MEMORY USAGE of every key of the room: 20 tasks, ~10 agents' presence, claims, leases and their audit events): median ${
        kb(percentile(perRoom, 50))
      } KB, max ${kb(Math.max(...perRoom))} KB.`,
    ].join("\n");
  } finally {
    await cluster.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      agents: { type: "string", default: "1000" },
      rooms: { type: "string", default: "100" },
      processes: { type: "string", default: "4" },
      seconds: { type: "string", default: "20" },
    },
  });
  try {
    console.log(
      await fleet({
        agents: Number(values.agents),
        rooms: Number(values.rooms),
        processes: Number(values.processes),
        seconds: Number(values.seconds),
      }),
    );
  } finally {
    await stopEverything();
  }
}
