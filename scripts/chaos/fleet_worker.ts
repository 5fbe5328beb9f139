/**
 * Worker of the fleet simulation (`fleet.ts`): one process simulating many
 * agents, each with its own RESP connection to the master that serves its
 * room's slot. Each agent loops with a random think time over the operations
 * an agent makes: presence refresh, the hook path's reads, a claim, a lease
 * acquire or release. Prints `ready`, reads its orders (JSON on stdin), runs
 * for `durationMs`, and prints the latencies (ms) per operation.
 *
 * ```sh
 * deno run -A scripts/chaos/fleet_worker.ts <index>
 * ```
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { readSnapshot } from "../../src/coordination/shared.ts";
import { acquireLease, releaseLease } from "../../src/coordination/leases.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { unreadInbox } from "../../src/inbox.ts";
import { refreshPresence } from "../../src/presence.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { claimTask } from "../../src/tasks.ts";

/** The orders of one worker. */
export interface FleetOrders {
  /** One entry per simulated agent: its room and the URL of the room's master. */
  agents: { repo: string; url: string; tasks: string[] }[];
  durationMs: number;
  /** Mean think time between two operations of one agent. */
  thinkMs: number;
}

/** Latencies per operation, in ms. */
export type FleetReport = Record<string, number[]>;

async function main(args: string[]): Promise<void> {
  const index = args[0] ?? "0";
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  const orders = JSON.parse(await new Response(Deno.stdin.readable).text()) as FleetOrders;
  const report: FleetReport = { presence: [], hookRead: [], claim: [], lease: [] };
  const until = performance.now() + orders.durationMs;
  const agent = async (a: FleetOrders["agents"][number], i: number) => {
    const identity = resolveIdentity(`f${index}x${i}`, `fleet${index}x${i}`);
    const redis = await connectRedis(parseRedisUrl(a.url), { transport: "resp" });
    const room = new Room(redis, roomConfig({ repo: a.repo, branch: "main" }));
    let lease: string | undefined;
    try {
      // spread the starts over one think time
      await new Promise((r) => setTimeout(r, Math.random() * orders.thinkMs));
      while (performance.now() < until) {
        const roll = Math.random();
        const start = performance.now();
        let op: string;
        if (roll < 0.4) {
          op = "presence";
          await refreshPresence(room, identity);
        } else if (roll < 0.7) {
          op = "hookRead";
          await Promise.all([
            readSnapshot(room),
            room.recent(20),
            unreadInbox(room, { recipient: identity.agent_id }),
          ]);
        } else if (roll < 0.85) {
          op = "claim";
          const task = a.tasks[Math.floor(Math.random() * a.tasks.length)]!;
          await claimTask(room, { taskId: task, agent: identity, ttlMs: 2_000 });
        } else {
          op = "lease";
          if (lease) {
            await releaseLease(room, { agent: identity, leaseId: lease });
            lease = undefined;
          } else {
            const r = await acquireLease(room, {
              agent: identity,
              resources: [`path:${identity.agent_id}/work`],
              purpose: "fleet",
              ttlMs: 10_000,
            });
            if (r.outcome === "acquired") lease = r.lease.id;
          }
        }
        report[op]!.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, orders.thinkMs * (0.5 + Math.random())));
      }
    } finally {
      await redis.close();
    }
  };
  await Promise.all(orders.agents.map(agent));
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report) + "\n"));
}

if (import.meta.main) await main(Deno.args);
