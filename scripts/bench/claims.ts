/**
 * Contended claim throughput: N separate processes (default 8, BENCH_PROCS),
 * one RESP connection each, race over the same M tasks (default 5,000,
 * BENCH_TASKS), each walking its own random order and calling `claimTask` on
 * every id (N × M attempts: M wins, the rest "held"). Every run of ours is
 * checked: each task has exactly one winner across the processes, one
 * TASK_CLAIMED event, and its owner key names that winner.
 *
 * Baseline in the same run on the same throwaway Redis: `redis-benchmark -c N
 * -n N×M EVALSHA <claim script>` with the exact keys and arguments
 * `claimTask` sends (captured through a recording port). redis-benchmark
 * replaces every `__rand_int__` with its own independent random number, so
 * one random id cannot be shared by ARGV[1] and the task's keys; instead the
 * owner and done keys (the contended state) take `__rand_int__` over M ids,
 * while ARGV[1] stays one pre-published task, which each call still looks up,
 * and the claimant (ARGV[2]) is a random agent per call (`rb-__rand_int__`),
 * so a taken lease answers "held" rather than renewing. Each call thus does
 * the work of a real claim (a win or a "held" over M leases). A second
 * baseline row uses one fixed id for everything (one win, then only "held"). Figures are medians of BENCH_REPEATS runs (default 3);
 * the database is flushed before each run.
 *
 * ```sh
 * deno run -A scripts/bench/claims.ts   # BENCH_PROCS=8 BENCH_TASKS=5000 BENCH_REPEATS=3
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { CLAIM } from "../../src/scripts.ts";
import { claimTask, registerTask } from "../../src/tasks.ts";
import { median, ratio, type RedisServer, requireTools, run, table, withRedis } from "./_server.ts";

const SELF = fileURLToPath(import.meta.url);
const TYPE = "BENCH_TASK";
const LEASE_MS = 10 * 60_000; // nothing lapses during a run
const setup = resolveIdentity("setup", "bench000");

/** What one worker process prints. */
interface WorkerReport {
  agent: string;
  wins: string[];
  outcomes: Record<string, number>;
}

// ---------------------------------------------------------------- worker side

/** Worker mode: `claims.ts --worker <url> <repo> <index>`; ids arrive on stdin. */
async function worker([url, repo, index]: string[]): Promise<void> {
  const agent = resolveIdentity(`w${index}`, `bench${index}`);
  const redis = await connectRedis(parseRedisUrl(url!), { transport: "resp" });
  try {
    const room = new Room(redis, roomConfig({ repo: repo!, branch: "main" }));
    await claimTask(room, { taskId: "1-0", agent, ttlMs: LEASE_MS }); // loads the script
    await Deno.stdout.write(new TextEncoder().encode("ready\n"));
    const ids = JSON.parse(await new Response(Deno.stdin.readable).text()) as string[];
    const random = new Uint32Array(ids.length);
    crypto.getRandomValues(random);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = random[i]! % (i + 1);
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const report: WorkerReport = { agent: agent.agent_id, wins: [], outcomes: {} };
    for (const taskId of ids) {
      const r = await claimTask(room, { taskId, agent, ttlMs: LEASE_MS });
      report.outcomes[r.outcome] = (report.outcomes[r.outcome] ?? 0) + 1;
      if (r.outcome === "claimed") report.wins.push(taskId);
    }
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report) + "\n"));
  } finally {
    await redis.close();
  }
}

// ---------------------------------------------------------------- parent side

/** Publishes `count` tasks (registered first), `inFlight` publishes at a time. */
async function publishTasks(room: Room, count: number, inFlight = 200): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) {
      const i = next++;
      ids[i] = (await room.publish({ type: TYPE, agent: setup, payload: i })).id;
    }
  }));
  return ids;
}

/** Reads the first line of a stream; `rest()` reads what follows until it closes. */
async function firstLine(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const newline = text.indexOf("\n");
  const line = newline === -1 ? text : text.slice(0, newline);
  const rest = async () => {
    let tail = newline === -1 ? "" : text.slice(newline + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return tail;
      tail += value;
    }
  };
  return { line, rest };
}

/** One run of ours: N processes race over M fresh tasks; returns attempts/s after checking. */
async function oursOnce(redis: RedisPort, url: string, procs: number, tasks: number) {
  const repo = `bench-claims-${crypto.randomUUID().slice(0, 8)}`;
  const room = new Room(redis, roomConfig({ repo, branch: "main" }));
  await registerTask(room, { type: TYPE, description: "benchmark task" });
  const ids = await publishTasks(room, tasks);
  const children = Array.from({ length: procs }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", SELF, "--worker", url, repo, String(i)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const starts = await Promise.all(children.map((c) => firstLine(c.stdout)));
  if (starts.some((s) => s.line !== "ready")) throw new Error("a claim worker did not start");
  const go = new TextEncoder().encode(JSON.stringify(ids));
  const began = performance.now();
  await Promise.all(children.map(async (c) => {
    const w = c.stdin.getWriter();
    await w.write(go);
    await w.close();
  }));
  const outputs = await Promise.all(starts.map((s) => s.rest()));
  const seconds = (performance.now() - began) / 1000;
  for (const status of await Promise.all(children.map((c) => c.status))) {
    if (!status.success) throw new Error(`a claim worker exited with ${status.code}`);
  }
  const reports = outputs.map((o) => JSON.parse(o) as WorkerReport);
  await checkExactlyOnce(room, ids, reports);
  return { rate: (procs * tasks) / seconds, seconds };
}

/** Throws unless every task has exactly one winner, one TASK_CLAIMED and that owner. */
async function checkExactlyOnce(room: Room, ids: string[], reports: WorkerReport[]) {
  const winner = new Map<string, string>();
  for (const r of reports) {
    const attempts = Object.values(r.outcomes).reduce((a, b) => a + b, 0);
    if (attempts !== ids.length) throw new Error(`${r.agent} made ${attempts} attempts`);
    for (const id of r.wins) {
      const other = winner.get(id);
      if (other) throw new Error(`task ${id} won twice: ${other} and ${r.agent}`);
      winner.set(id, r.agent);
    }
  }
  if (winner.size !== ids.length) {
    throw new Error(`${ids.length - winner.size} tasks have no winner`);
  }
  const owners = await room.redis.pipeline(ids.map((id) => ["GET", room.keys.taskOwner(id)]));
  ids.forEach((id, i) => {
    if (owners[i] !== winner.get(id)) throw new Error(`owner key of ${id} is ${owners[i]}`);
  });
  const audits = new Map<string, number>();
  for (let after = "0-0";;) {
    const batch = await room.since(after, 10_000);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.type === "TASK_CLAIMED") audits.set(e.reply_to, (audits.get(e.reply_to) ?? 0) + 1);
    }
    after = batch.at(-1)!.id;
  }
  if (audits.size !== ids.length || [...audits.values()].some((n) => n !== 1)) {
    throw new Error("TASK_CLAIMED events do not match one winner per task");
  }
}

/** The script, keys and arguments `claimTask` sends, captured by a recording port. */
async function captureClaim(room: Room, taskId: string) {
  let sent: { keys: string[]; args: string[] } | undefined;
  const unexpected = () => Promise.reject(new Error("claimTask now sends more than one script"));
  const port: RedisPort = {
    address: "capture",
    call: unexpected,
    callBytes: unexpected,
    pipeline: unexpected,
    evalScript: (_script, keys, args) => {
      sent = { keys: [...keys], args: args.map(String) };
      return Promise.resolve(["unknown"]);
    },
    close: () => Promise.resolve(),
  };
  const capture = new Room(port, room.config);
  await claimTask(capture, { taskId, agent: setup, ttlMs: LEASE_MS });
  return sent!;
}

/** One redis-benchmark run against a fresh pre-published task; returns requests/s and wins. */
async function baselineOnce(
  redis: RedisPort,
  port: number,
  procs: number,
  tasks: number,
  spread: boolean,
) {
  const room = new Room(redis, roomConfig({ repo: "bench-claims-rb", branch: "main" }));
  await registerTask(room, { type: TYPE, description: "benchmark task" });
  const [id] = await publishTasks(room, 1, 1);
  const { keys, args } = await captureClaim(room, id!);
  if (spread) {
    // KEYS[7] the owner key: one random id of M per call
    keys[6] = `${room.keys.prefix}:task:__rand_int__:owner`;
  }
  // ARGV[2] the claimant: a random agent per call, so a held lease is "held", not renewed
  args[1] = "rb-__rand_int__";
  const sha = (await redis.call(["SCRIPT", "LOAD", CLAIM.source])) as string;
  const rb = ["-p", String(port), "-c", String(procs), "-n", String(procs * tasks), "--csv"];
  rb.push("-r", String(spread ? tasks : 1_000_000));
  const csv = await run("redis-benchmark", [
    ...rb,
    "EVALSHA",
    sha,
    String(keys.length),
    ...keys,
    ...args,
  ]);
  const rate = Number(csv.trim().split("\n").at(-1)!.split('","')[1]);
  // leases won: owner keys (a renewal, same random agent drawn twice, is rare and not counted)
  const owners = await redis.call(["KEYS", `${room.keys.prefix}:task:*:owner`]) as string[];
  return { rate, wins: owners.length };
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function claimThroughput(server?: RedisServer): Promise<string> {
  await requireTools(["redis-benchmark"]);
  const procs = Number(Deno.env.get("BENCH_PROCS") ?? 8);
  const tasks = Number(Deno.env.get("BENCH_TASKS") ?? 5_000);
  const repeats = Number(Deno.env.get("BENCH_REPEATS") ?? 3);
  return await withRedis(server, async ({ url, port }) => {
    const redis = await connectRedis(parseRedisUrl(url));
    try {
      const ours: number[] = [];
      const spread: { rate: number; wins: number }[] = [];
      const fixed: { rate: number; wins: number }[] = [];
      for (let i = 0; i < repeats; i++) {
        console.error(`claims: run ${i + 1}/${repeats}, ${procs} processes × ${tasks} tasks …`);
        await redis.call(["FLUSHALL"]);
        const r = await oursOnce(redis, url, procs, tasks);
        console.error(`  ours ${Math.round(r.rate)} claims/s, exactly one winner per task: ok`);
        ours.push(r.rate);
        await redis.call(["FLUSHALL"]);
        spread.push(await baselineOnce(redis, port, procs, tasks, true));
        await redis.call(["FLUSHALL"]);
        fixed.push(await baselineOnce(redis, port, procs, tasks, false));
      }
      await redis.call(["FLUSHALL"]);
      const f = (x: number) => Math.round(x).toLocaleString("en-US");
      const mine = median(ours);
      const rbSpread = median(spread.map((s) => s.rate));
      const rbFixed = median(fixed.map((s) => s.rate));
      const attempts = f(procs * tasks);
      return [
        `### Contended claims (${procs} clients × ${f(tasks)} tasks = ${attempts} attempts, ` +
        `median of ${repeats})`,
        "",
        table(["claimer", "wins per run", "claims /s", "ours ÷ this"], [
          [
            `agentroom claimTask, ${procs} process${procs === 1 ? "" : "es"} (resp)`,
            f(tasks),
            f(mine),
            "1.00×",
          ],
          [
            `redis-benchmark -c ${procs} EVALSHA claim, owner keys over ${f(tasks)} ids`,
            f(median(spread.map((s) => s.wins))),
            f(rbSpread),
            ratio(mine, rbSpread),
          ],
          [
            `redis-benchmark -c ${procs} EVALSHA claim, one fixed id`,
            f(median(fixed.map((s) => s.wins))),
            f(rbFixed),
            ratio(mine, rbFixed),
          ],
        ]),
        "",
        `Ours ÷ redis-benchmark (same script, keys over ${f(tasks)} ids): ` +
        `${ratio(mine, rbSpread)}. Every run of ours was checked: one winner per task, ` +
        `one TASK_CLAIMED each, owner keys match.`,
      ].join("\n");
    } finally {
      await redis.close();
    }
  });
}

if (import.meta.main) {
  if (Deno.args[0] === "--worker") await worker(Deno.args.slice(1));
  else console.log(await claimThroughput());
}
