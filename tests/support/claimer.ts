/**
 * Test worker for `tasks_race_test.ts`: one separate process, one RESP
 * connection, racing other workers over the same tasks.
 *
 * ```sh
 * deno run -A tests/support/claimer.ts <redis-url> <repo> <handle> <session> <ttl-ms>
 * ```
 *
 * It connects and warms up (loads the claim script), prints `ready`, then reads
 * the task ids as one JSON array from stdin (the start signal; the parent
 * sends it to every worker at once and closes stdin), claims each id once in
 * its own random order, and prints one JSON line: its agent id, its wins
 * (`{id, expiresAt, auditId}`) and how many attempts had each outcome.
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { claimTask } from "../../src/tasks.ts";

/** One claim this worker won. */
export interface Win {
  id: string;
  expiresAt: number;
  auditId: string;
}

/** What a worker prints when it is done. */
export interface ClaimerReport {
  agent: string;
  wins: Win[];
  outcomes: Record<string, number>;
}

/** A uniformly random permutation (Fisher–Yates on crypto randomness). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  const random = new Uint32Array(out.length);
  crypto.getRandomValues(random);
  for (let i = out.length - 1; i > 0; i--) {
    const j = random[i]! % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function main(args: string[]): Promise<void> {
  const [url, repo, handle, session, ttlText] = args;
  if (!url || !repo || !handle || !session || !ttlText) {
    throw new Error("usage: claimer.ts <redis-url> <repo> <handle> <session> <ttl-ms>");
  }
  const ttlMs = Number(ttlText);
  const agent = resolveIdentity(handle, session);
  const redis = await connectRedis(parseRedisUrl(url), { transport: "resp" });
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    // warm-up: loads the claim script on this connection; writes nothing
    const probe = await claimTask(room, { taskId: "1-0", agent, ttlMs });
    if (probe.outcome !== "unknown") throw new Error(`warm-up claim: ${probe.outcome}`);
    await Deno.stdout.write(new TextEncoder().encode("ready\n"));

    const ids = JSON.parse(await new Response(Deno.stdin.readable).text()) as string[];
    const wins: Win[] = [];
    const outcomes: Record<string, number> = {};
    for (const id of shuffled(ids)) {
      const result = await claimTask(room, { taskId: id, agent, ttlMs });
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      if (result.outcome === "claimed" || result.outcome === "renewed") {
        wins.push({ id, expiresAt: result.expiresAt, auditId: result.auditId });
      }
    }
    const report: ClaimerReport = { agent: agent.agent_id, wins, outcomes };
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report) + "\n"));
  } finally {
    await redis.close();
  }
}

if (import.meta.main) await main(Deno.args);
