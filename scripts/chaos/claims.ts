/**
 * Chaos scenario: claims. Worker processes (`claim_worker.ts`) race over a
 * set of tasks with TTLs short enough that most claims lapse during the run,
 * completing some tasks strictly. The audit stream (TASK_CLAIMED, TASK_DONE,
 * written by the same scripts that change the state) is checked against what
 * the workers were acknowledged.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { openTasks, registerTask } from "../../src/tasks.ts";
import { allEvents, n, type Profile, type Row, row, runWorkers, sleep } from "./_lib.ts";
import type { ClaimWorkerReport } from "./claim_worker.ts";

const WORKER = fileURLToPath(new URL("./claim_worker.ts", import.meta.url));
const TTLS = [2, 5, 20, 50];

/** Sizes per profile. */
export const CLAIM_SIZES = {
  short: { processes: 4, tasks: 300, attempts: 1_500 },
  full: { processes: 8, tasks: 2_000, attempts: 12_500 },
} as const;

/** Publishes `count` tasks of type CHAOS in a fresh room; returns their ids. */
export async function publishTasks(room: Room, count: number): Promise<string[]> {
  const setup = resolveIdentity("setup", "chaossetup");
  await registerTask(room, { type: "CHAOS", description: "chaos task" });
  const ids: string[] = [];
  for (let i = 0; i < count; i += 200) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(200, count - i) },
        (_, j) => room.publish({ type: "CHAOS", agent: setup, payload: i + j }),
      ),
    );
    ids.push(...batch.map((e) => e.id));
  }
  return ids;
}

/** Runs the claims scenario against the server at `url`. */
export async function claimsScenario(url: string, profile: Profile): Promise<Row[]> {
  const size = CLAIM_SIZES[profile];
  const repo = `chaos-claims-${crypto.randomUUID().slice(0, 8)}`;
  const redis = await connectRedis(parseRedisUrl(url));
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    const ids = await publishTasks(room, size.tasks);
    const reports = await runWorkers<ClaimWorkerReport>(
      WORKER,
      size.processes,
      (i) => [url, repo, String(i)],
      () => ({ ids, attempts: size.attempts, ttls: TTLS, completeEvery: 40 }),
      600_000,
    );
    await sleep(Math.max(...TTLS) + 20); // every claim lapses
    const events = await allEvents(room);
    const byId = new Map(events.map((e) => [e.id, e]));
    const attempts = reports.reduce((s, r) => s + r.attempts, 0);

    // 1. acknowledged ↔ audited, one to one
    const unaudited: string[] = [];
    const acked = new Set<string>();
    for (const r of reports) {
      for (const [taskId, auditId] of r.wins) {
        acked.add(auditId);
        const e = byId.get(auditId);
        if (!e || e.type !== "TASK_CLAIMED" || e.reply_to !== taskId || e.agent_id !== r.agent) {
          unaudited.push(`win ${auditId} of ${taskId} by ${r.agent} has no matching TASK_CLAIMED`);
        }
      }
      for (const [taskId, auditId] of r.completions) {
        acked.add(auditId);
        const e = byId.get(auditId);
        if (!e || e.type !== "TASK_DONE" || e.reply_to !== taskId || e.agent_id !== r.agent) {
          unaudited.push(`completion ${auditId} of ${taskId} has no matching TASK_DONE`);
        }
      }
    }
    const phantom = events
      .filter((e) => (e.type === "TASK_CLAIMED" || e.type === "TASK_DONE") && !acked.has(e.id))
      .map((e) => `${e.type} ${e.id} was acknowledged to nobody`);

    // 2. replay per task: no overlapping holders, strict completion by the holder, done once
    const doubles: string[] = [];
    const afterDone: string[] = [];
    const last = new Map<string, { agent: string; at: number; ttl: number }>();
    const done = new Map<string, number>();
    let late = 0;
    let lateMax = 0;
    for (const e of events) {
      if (e.type === "TASK_CLAIMED") {
        const ttl = (e.payload as { ttl_ms: number }).ttl_ms;
        if (done.has(e.reply_to)) afterDone.push(`${e.id} claims done task ${e.reply_to}`);
        const prev = last.get(e.reply_to);
        if (prev && prev.agent !== e.agent_id && e.timestamp < prev.at + prev.ttl) {
          doubles.push(
            `${e.reply_to}: ${e.agent_id} at ${e.timestamp} while ${prev.agent} held it until ${
              prev.at + prev.ttl
            }`,
          );
        }
        last.set(e.reply_to, { agent: e.agent_id, at: e.timestamp, ttl });
      } else if (e.type === "TASK_DONE") {
        // Strict completion: the latest claim in stream order must be the completer's. Its
        // timestamp may pass that claim's deadline by a little: the script checks the owner key
        // against Redis's clock frozen at the script's start, and reads TIME for the audit
        // event afterwards. Counted and reported, not a violation: nobody else claimed between.
        const prev = last.get(e.reply_to);
        if (!prev || prev.agent !== e.agent_id) {
          doubles.push(
            `${e.id}: strict completion of ${e.reply_to} by ${e.agent_id}; ${
              prev ? `the latest claim is ${prev.agent}'s` : "never claimed"
            }`,
          );
        } else if (e.timestamp > prev.at + prev.ttl) {
          late++;
          lateMax = Math.max(lateMax, e.timestamp - prev.at - prev.ttl);
        }
        done.set(e.reply_to, (done.get(e.reply_to) ?? 0) + 1);
      }
    }
    for (const [task, count] of done) {
      if (count > 1) afterDone.push(`${task} completed ${count} times`);
    }

    // 3. no task lost: every task is done or open (claimable) once the claims lapsed
    const open = new Set((await openTasks(room, ids.length + 10)).map((e) => e.id));
    const lost = ids.filter((id) => !done.has(id) && !open.has(id)).map((id) =>
      `task ${id} is neither done nor open`
    );
    const stale = ids.filter((id) => done.has(id) && open.has(id)).map((id) =>
      `done task ${id} is still open`
    );

    const wins = reports.reduce((s, r) => s + r.wins.length, 0);
    const volume = `${n(attempts)} attempts by ${size.processes} processes over ${
      n(ids.length)
    } tasks, TTL ${TTLS.join("/")} ms; ${n(wins)} wins, ${n(done.size)} completed`;
    return [
      row(
        "claims",
        "double winners (overlapping holders, strict completion by a non-holder)",
        volume,
        doubles,
        `${late} strict completion(s) stamped up to ${lateMax} ms after the holder's deadline ` +
          "(audit clock read after the expiry check; nobody else claimed in between)",
      ),
      row(
        "claims",
        "acknowledged claims/completions missing from the audit stream, or audited but never acknowledged",
        volume,
        [...unaudited, ...phantom],
      ),
      row(
        "claims",
        "lost tasks (neither done nor claimable after the run), done twice, claimed after done",
        volume,
        [...lost, ...stale, ...afterDone],
      ),
    ];
  } finally {
    await redis.close();
  }
}
