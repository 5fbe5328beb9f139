/**
 * Chaos worker of the claims scenario: one process, one RESP connection, one
 * agent. It prints `ready`, reads its orders as JSON on stdin
 * (`{ ids, attempts, ttls, completeEvery }`), then makes `attempts` claims
 * of random tasks with a random short TTL (most lapse during the run); after
 * a win it sometimes completes the task strictly. It prints one JSON report:
 * every acknowledged win and completion with its audit event id.
 *
 * ```sh
 * deno run -A scripts/chaos/claim_worker.ts <redis-url> <repo> <index>
 * ```
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { claimTask, completeTask } from "../../src/tasks.ts";

/** What a claim worker prints. */
export interface ClaimWorkerReport {
  agent: string;
  attempts: number;
  outcomes: Record<string, number>;
  /** Acknowledged wins: [task id, audit id, ttl ms]. */
  wins: [string, string, number][];
  /** Acknowledged completions: [task id, audit id]. */
  completions: [string, string][];
}

async function main(args: string[]): Promise<void> {
  const [url, repo, index] = args;
  if (!url || !repo || index === undefined) {
    throw new Error("usage: claim_worker.ts <redis-url> <repo> <index>");
  }
  const agent = resolveIdentity(`c${index}`, `chaos${index.padStart(4, "0")}`);
  const redis = await connectRedis(parseRedisUrl(url), { transport: "resp" });
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    await claimTask(room, { taskId: "1-0", agent, ttlMs: 10 }); // warm-up: loads the script
    await Deno.stdout.write(new TextEncoder().encode("ready\n"));
    const orders = JSON.parse(await new Response(Deno.stdin.readable).text()) as {
      ids: string[];
      attempts: number;
      ttls: number[];
      completeEvery: number;
    };
    const report: ClaimWorkerReport = {
      agent: agent.agent_id,
      attempts: 0,
      outcomes: {},
      wins: [],
      completions: [],
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
    for (let i = 0; i < orders.attempts; i++) {
      const taskId = pick(orders.ids);
      const ttlMs = pick(orders.ttls);
      const r = await claimTask(room, { taskId, agent, ttlMs });
      report.attempts++;
      report.outcomes[r.outcome] = (report.outcomes[r.outcome] ?? 0) + 1;
      if (r.outcome === "claimed" || r.outcome === "renewed") {
        report.wins.push([taskId, r.auditId, ttlMs]);
        if (Math.random() * orders.completeEvery < 1) {
          const c = await completeTask(room, { taskId, agent, result: i, strict: true });
          report.outcomes[`complete:${c.outcome}`] = (report.outcomes[`complete:${c.outcome}`] ??
            0) + 1;
          if (c.outcome === "completed") report.completions.push([taskId, c.auditId]);
        }
      }
    }
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report) + "\n"));
  } finally {
    await redis.close();
  }
}

if (import.meta.main) await main(Deno.args);
