/**
 * Test worker for `coordination_property_test.ts`: one separate process with
 * one RESP connection and two agents, running random lease, guard and window
 * operations against a shared room.
 *
 * ```sh
 * deno run -A tests/support/coordinator.ts <redis-url> <repo> <index>
 * ```
 *
 * It connects, prints `ready`, then reads its orders as one JSON object from
 * stdin ({ ops, seed, agents }: how many operations, a PRNG seed, every agent
 * id of the run). For each operation it reads the server clock before and
 * after, so the parent can place the answer in the audit stream's order.
 * Every 20 operations it takes a snapshot of live leases and windows and
 * checks the invariants on it. It prints one JSON report at the end.
 *
 * @module
 */
import { readSnapshot } from "../../src/coordination/shared.ts";
import { roomConfig } from "../../src/config.ts";
import { guardResources } from "../../src/coordination/guard.ts";
import { type AgentIdentity, resolveIdentity } from "../../src/identity.ts";
import { acquireLease, releaseLease, renewLease } from "../../src/coordination/leases.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { requestWindow } from "../../src/coordination/windows.ts";
import {
  ackWindow,
  activateWindow,
  cancelWindow,
  releaseWindow,
} from "../../src/coordination/window_lifecycle.ts";

/** The resources every worker draws from: nested paths, a prefix trap, two databases. */
export const UNIVERSE = [
  "path:a",
  "path:a/b",
  "path:a/b/c",
  "path:a/d",
  "path:ab",
  "path:e/f",
  "path:e/g",
  "path:e",
  "path:h",
  "path:i/j",
  "db:x",
  "db:y",
  "db:z",
];

/** One operation and its answer. */
export interface OpRecord {
  /** Acting agent id. */
  agent: string;
  /** Operation name. */
  op: string;
  /** Its arguments. */
  args: Record<string, unknown>;
  /** Server time read just before sending it (ms). */
  before: number;
  /** Server time read just after its answer (ms). */
  after: number;
  /** The library's answer, verbatim. */
  result: Record<string, unknown>;
}

/** What a worker prints. */
export interface CoordinatorReport {
  records: OpRecord[];
  /** Invariant violations seen in snapshots. */
  violations: string[];
  snapshots: number;
}

/** Mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Segment-wise path overlap, written independently of src/resources.ts. */
export function clash(a: string, b: string): boolean {
  if (a === b) return true;
  if (!a.startsWith("path:") || !b.startsWith("path:")) return false;
  const x = a.slice(5).split("/");
  const y = b.slice(5).split("/");
  const n = Math.min(x.length, y.length);
  return x.slice(0, n).join("/") === y.slice(0, n).join("/");
}

/** Whether any resource of `a` overlaps any of `b`. */
export function clashAny(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => clash(x, y)));
}

async function main(args: string[]): Promise<void> {
  const [url, repo, index] = args;
  if (!url || !repo || index === undefined) {
    throw new Error("usage: coordinator.ts <redis-url> <repo> <index>");
  }
  // Two agents of two sessions: the model compares owners by agent id, and what one
  // session holds is never a conflict for that session (tests/coordination/guard_test.ts
  // and leases_test.ts cover the session rule).
  const mine = [
    resolveIdentity(`p${index}a`, `prop000${index}a`),
    resolveIdentity(`p${index}b`, `prop000${index}b`),
  ];
  const redis = await connectRedis(parseRedisUrl(url), { transport: "resp" });
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    await readSnapshot(room); // warm-up: loads a script, writes nothing
    await Deno.stdout.write(new TextEncoder().encode("ready\n"));
    const orders = JSON.parse(await new Response(Deno.stdin.readable).text()) as {
      ops: number;
      seed: number;
      agents: string[];
    };
    const random = prng(orders.seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const some = (n: number) => [...new Set(Array.from({ length: n }, () => pick(UNIVERSE)))];
    // what this worker knows, most recently seen last: lease id → owner, window id → window
    const leases = new Map<string, string>();
    const windows = new Map<string, { owner: string; required: string[] }>();
    const report: CoordinatorReport = { records: [], violations: [], snapshots: 0 };
    const fake = () => Array.from({ length: 32 }, () => pick([..."0123456789abcdef"])).join("");
    const ids = mine.map((a) => a.agent_id);
    // mostly act as the owner (or a required agent), sometimes as anyone on anything
    const chooseLease = (agent: AgentIdentity): [AgentIdentity, string] => {
      const own = [...leases].slice(-8).filter(([, owner]) => ids.includes(owner));
      if (own.length > 0 && random() < 0.75) {
        const [id, owner] = pick(own);
        return [mine[ids.indexOf(owner)]!, id];
      }
      return [agent, leases.size > 0 && random() < 0.9 ? pick([...leases.keys()]) : fake()];
    };
    const chooseWindow = (
      agent: AgentIdentity,
      role: "owner" | "required",
    ): [AgentIdentity, string] => {
      const fits = [...windows].slice(-8).flatMap(([id, w]) => {
        const who = role === "owner" ? [w.owner] : w.required;
        return who.filter((a) => ids.includes(a)).map((a) => [id, a] as const);
      });
      if (fits.length > 0 && random() < 0.75) {
        const [id, who] = pick(fits);
        return [mine[ids.indexOf(who)]!, id];
      }
      return [agent, windows.size > 0 && random() < 0.95 ? pick([...windows.keys()]) : fake()];
    };
    const ttl = () => pick([2, 5, 15, 40]);

    type Make = (
      agent: AgentIdentity,
    ) => [AgentIdentity, string, Record<string, unknown>, () => Promise<unknown>];
    const ops: [number, Make][] = [
      [25, (agent) => {
        const a = { resources: some(1 + Math.floor(random() * 2)), ttlMs: ttl() };
        return [agent, "acquire", a, () => acquireLease(room, { agent, purpose: "prop", ...a })];
      }],
      [10, (agent) => {
        const [who, leaseId] = chooseLease(agent);
        const a = { leaseId, ttlMs: ttl() };
        return [who, "renew", a, () => renewLease(room, { agent: who, ...a })];
      }],
      [12, (agent) => {
        const [who, leaseId] = chooseLease(agent);
        const a = { leaseId };
        return [who, "release", a, () => releaseLease(room, { agent: who, ...a })];
      }],
      [14, (agent) => {
        const [who, leaseId] = chooseLease(agent);
        const a = {
          resources: some(1 + Math.floor(random() * 2)),
          requireHeld: random() < 0.4,
          ...(random() < 0.3 ? { leaseId } : {}),
        };
        return [who, "guard", a, () => guardResources(room, { agentId: who.agent_id, ...a })];
      }],
      [8, (agent) => {
        const a = {
          resources: some(1),
          ttlMs: pick([5, 15, 40]),
          ackTimeoutMs: pick([5, 15, 40]),
          require: random() < 0.4 ? [pick(orders.agents)] : [],
        };
        return [agent, "request", a, () => requestWindow(room, { agent, purpose: "prop", ...a })];
      }],
      [9, (agent) => {
        const [who, windowId] = chooseWindow(agent, "required");
        return [who, "ack", { windowId }, () => ackWindow(room, { agent: who, windowId })];
      }],
      [9, (agent) => {
        const [who, windowId] = chooseWindow(agent, "owner");
        return [
          who,
          "activate",
          { windowId },
          () => activateWindow(room, { agent: who, windowId }),
        ];
      }],
      [4, (agent) => {
        const [who, windowId] = chooseWindow(agent, "owner");
        return [who, "wrelease", { windowId }, () => releaseWindow(room, { agent: who, windowId })];
      }],
      [3, (agent) => {
        const [who, windowId] = chooseWindow(agent, "owner");
        return [who, "cancel", { windowId }, () => cancelWindow(room, { agent: who, windowId })];
      }],
    ];
    const total = ops.reduce((sum, [w]) => sum + w, 0);
    for (let i = 0; i < orders.ops; i++) {
      let roll = random() * total;
      const [, make] = ops.find(([w]) => (roll -= w) < 0) ?? ops[0]!;
      const [agent, op, a, run] = make(pick(mine));
      const before = await room.serverTime();
      const result = await run() as Record<string, unknown>;
      const after = await room.serverTime();
      report.records.push({ agent: agent.agent_id, op, args: a, before, after, result });
      const lease = result.lease as { id: string; owner: string } | undefined;
      const window = result.window as { id: string; owner: string; required: string[] } | undefined;
      if (lease) leases.delete(lease.id), leases.set(lease.id, lease.owner);
      if (window) windows.delete(window.id), windows.set(window.id, window);
      if (i % 20 === 19) {
        const snap = await readSnapshot(room);
        report.snapshots++;
        for (const l of snap.leases) leases.set(l.id, l.owner);
        for (const w of snap.windows) windows.set(w.id, w);
        const ls = snap.leases;
        const ws = snap.windows.filter((w) => w.state === "pending" || w.state === "active");
        for (const [j, x] of ls.entries()) {
          for (const y of ls.slice(j + 1)) {
            // a session's own leases may overlap; those of two sessions never do
            if (x.owner !== y.owner && clashAny(x.resources, y.resources)) {
              report.violations.push(`leases ${x.id} ${y.id}`);
            }
          }
        }
        for (const [j, x] of ws.entries()) {
          for (const y of ws.slice(j + 1)) {
            if (clashAny(x.resources, y.resources)) {
              report.violations.push(`windows ${x.id} ${y.id}`);
            }
          }
          for (const l of ls) {
            if (x.state === "active" && l.owner !== x.owner && clashAny(x.resources, l.resources)) {
              report.violations.push(`active window ${x.id} and lease ${l.id}`);
            }
          }
        }
      }
    }
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report) + "\n"));
  } finally {
    await redis.close();
  }
}

if (import.meta.main) await main(Deno.args);
