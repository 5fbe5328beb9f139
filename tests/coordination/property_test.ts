/**
 * Property test of leases, guard and windows under concurrency: several
 * processes (`support/coordinator.ts`, two agents each) run thousands of random
 * operations against one room, with lease and window lifetimes short enough
 * that much of the state lapses during the run.
 *
 * Why the check is sound despite concurrency: every state change writes its
 * audit event in the same script, on the server clock, so the room stream is
 * the total order of all changes. A plain model of the rules (below, written
 * independently of src/) replays that stream and
 *   1. checks every change was legal in the state at that point, and the
 *      invariants after every event: no two live leases overlap, no two live
 *      windows overlap, no active window overlaps another agent's live lease;
 *   2. matches every successful answer to its event (same type, agent,
 *      record, and a timestamp within the call), and finds no event nobody
 *      asked for;
 *   3. checks every other answer (conflict, missing, not owner, wrong state,
 *      expired, acks outstanding, each guard verdict, "already" answers) is
 *      right in the model state at some point of the stream and some instant
 *      between the server times read just before and after the call.
 * Workers also check the invariants on atomic snapshots while running.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { roomConfig } from "../../src/config.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { shared, uniqueRepo } from "../support/redis.ts";
import type { CoordinatorReport } from "../support/coordinator.ts";
import { EVENT_OF, verifyRun } from "../support/coord_model.ts";

const WORKER = fileURLToPath(new URL("../support/coordinator.ts", import.meta.url));
const PROCESSES = 4;
const OPS = 1_000;

async function runWorkers(repo: string, seed: number): Promise<CoordinatorReport[]> {
  const children = Array.from({ length: PROCESSES }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", WORKER, shared.url, repo, String(i)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).spawn());
  const agents = Array.from(
    { length: PROCESSES },
    (_, i) => [`p${i}a-prop000${i}`, `p${i}b-prop000${i}`],
  ).flat();
  const stdout = children.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const stderr = children.map((c) => new Response(c.stderr).text());
  const texts = children.map(() => "");
  // wait for every "ready" line, then start all workers at once
  await Promise.all(stdout.map(async (reader, i) => {
    while (!texts[i]!.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`worker ${i} did not start: ${await stderr[i]}`);
      texts[i] += value;
    }
  }));
  await Promise.all(children.map(async (c, i) => {
    const writer = c.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify({ ops: OPS, seed: seed * 10 + i, agents })),
    );
    await writer.close();
  }));
  const outputs = await Promise.all(stdout.map(async (reader, i) => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return texts[i]!.slice(texts[i]!.indexOf("\n") + 1);
      texts[i] += value;
    }
  }));
  const statuses = await Promise.all(children.map((c) => c.status));
  for (const [i, s] of statuses.entries()) {
    if (!s.success) assert.fail(`worker ${i} (seed ${seed}) failed: ${await stderr[i]}`);
  }
  await Promise.all(stderr);
  return outputs.map((o) => JSON.parse(o) as CoordinatorReport);
}

/**
 * The run's seed: `AGENTROOM_PROPERTY_SEED` replays a failed run's random
 * operations (worker `i` uses `seed * 10 + i`); else a fresh one.
 */
function propertySeed(): number {
  const given = Deno.env.get("AGENTROOM_PROPERTY_SEED");
  if (given === undefined || given === "") return Math.floor(Math.random() * 1_000_000);
  if (!/^\d+$/.test(given)) throw new Error(`AGENTROOM_PROPERTY_SEED must be a whole number`);
  return Number(given);
}

Deno.test(`random leases, guards and windows from ${PROCESSES} processes match a model of the rules`, async () => {
  const seed = propertySeed();
  try {
    await property(seed);
  } catch (error) {
    // every failure names its seed and how to replay it
    const replay = `seed ${seed}; replay with AGENTROOM_PROPERTY_SEED=${seed} ` +
      "deno test --allow-all tests/coordination/property_test.ts";
    console.error(`property test failed: ${replay}`);
    if (error instanceof Error) error.message = `${error.message}\n(${replay})`;
    throw error;
  }
});

async function property(seed: number): Promise<void> {
  const repo = uniqueRepo("prop");
  const redis = await connectRedis(parseRedisUrl(shared.url));
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    const reports = await runWorkers(repo, seed);
    const records = reports.flatMap((r) => r.records);
    assert.equal(records.length, PROCESSES * OPS);
    assert.deepEqual(reports.flatMap((r) => r.violations), [], "snapshot invariants");
    const events = await room.since("0-0", 1_000_000);
    const { problems, stats } = verifyRun(events, records);
    if (Deno.env.get("PROP_DEBUG")) {
      await Deno.writeTextFile("/tmp/prop.json", JSON.stringify({ events, records, problems }));
    }
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);

    if (Deno.env.get("PROP_DEBUG")) console.log(JSON.stringify(stats), events.length);
    // the run exercised the interesting paths
    const count = (type: string) => events.filter((e) => e.type === type).length;
    for (const type of Object.values(EVENT_OF)) assert.ok(count(type) > 0, `some ${type}`);
    for (
      const key of [
        "acquire:conflict",
        "renew:missing",
        "renew:conflict",
        "guard:conflict",
        "guard:safe",
        "request:conflict",
        "activate:acks",
        "ack:expired",
      ]
    ) {
      assert.ok((stats[key] ?? 0) > 0, `some ${key}: ${JSON.stringify(stats)}`);
    }
  } finally {
    await redis.close();
  }
}
