/**
 * Chaos scenario: leases, guard and quiet windows. The property test's
 * workers (`tests/support/coordinator.ts`: random operations, short
 * lifetimes, live overlap snapshots every 20 operations) run in rounds, one
 * fresh room per round, and each round's audit stream is replayed through
 * the model of the rules (`tests/support/coord_model.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import type { CoordinatorReport } from "../../tests/support/coordinator.ts";
import { verifyRun } from "../../tests/support/coord_model.ts";
import { allEvents, n, type Profile, type Row, row, runWorkers } from "./_lib.ts";

const WORKER = fileURLToPath(new URL("../../tests/support/coordinator.ts", import.meta.url));

/** Sizes per profile. */
export const LEASE_SIZES = {
  short: { rounds: 1, processes: 4, ops: 500 },
  full: { rounds: 20, processes: 4, ops: 2_000 },
} as const;

/** Runs the leases scenario against the server at `url`. */
export async function leasesScenario(url: string, profile: Profile): Promise<Row[]> {
  const size = LEASE_SIZES[profile];
  const redis = await connectRedis(parseRedisUrl(url));
  const snapshotViolations: string[] = [];
  const problems: string[] = [];
  let ops = 0;
  let snapshots = 0;
  let events = 0;
  try {
    for (let round = 0; round < size.rounds; round++) {
      const repo = `chaos-leases-${crypto.randomUUID().slice(0, 8)}`;
      const seed = Math.floor(Math.random() * 1_000_000);
      // the agent ids the workers act as (see coordinator.ts), for window requirements
      const agents = Array.from(
        { length: size.processes },
        (_, i) => ["a", "b"].map((x) => resolveIdentity(`p${i}${x}`, `prop000${i}${x}`).agent_id),
      ).flat();
      const reports = await runWorkers<CoordinatorReport>(
        WORKER,
        size.processes,
        (i) => [url, repo, String(i)],
        (i) => ({ ops: size.ops, seed: seed * 10 + i, agents }),
        300_000,
      );
      const room = new Room(redis, roomConfig({ repo, branch: "main" }));
      const stream = await allEvents(room);
      const records = reports.flatMap((r) => r.records);
      ops += records.length;
      events += stream.length;
      snapshots += reports.reduce((s, r) => s + r.snapshots, 0);
      snapshotViolations.push(
        ...reports.flatMap((r) => r.violations).map((v) => `seed ${seed}: ${v}`),
      );
      problems.push(...verifyRun(stream, records).problems.map((p) => `seed ${seed}: ${p}`));
    }
  } finally {
    await redis.close();
  }
  const volume = `${n(ops)} random operations (${size.rounds} × ${size.processes} processes × ${
    n(size.ops)
  }), ${n(events)} audit events`;
  return [
    row(
      "leases",
      `overlapping leases/windows in ${n(snapshots)} live atomic snapshots`,
      volume,
      snapshotViolations,
    ),
    row(
      "leases",
      "audit replay against the model: illegal changes, broken invariants, unjustified answers, lost or unacknowledged events",
      volume,
      problems,
    ),
  ];
}
