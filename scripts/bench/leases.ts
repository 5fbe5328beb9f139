/**
 * Leases: throughput and how costs scale with live leases and stream length.
 *
 * 1. Round trips: N processes (default 8, BENCH_PROCS), one RESP connection
 *    each, each doing M (default 2,000, BENCH_LEASES) `acquireLease` +
 *    `releaseLease` pairs on its own resources (every acquire must win; the
 *    run is checked). Baseline in the same run: `redis-benchmark -c N
 *    EVALSHA <lease_acquire>` with the exact keys and arguments
 *    `acquireLease` sends (captured through a recording port), the lease id
 *    and resource drawn per call with `__rand_int__` so each call is a real
 *    win. The ratio compares script calls per second (ours: 2 per pair).
 * 2. Scaling: median latency (BENCH_CALLS, default 200 rounds) of
 *    `roomStatus()` listing 10 leases (exact counts), with its default cap of
 *    100, and listing every lease (limit 10,000); of an acquire + release
 *    pair; and of `guardResources()` on `path:src`, the directory above every
 *    lease; in a room with 10 live leases and 100 events against one with
 *    10,000 live leases and 100,000 events. Only the full listing should grow.
 *
 * ```sh
 * deno run -A scripts/bench/leases.ts   # BENCH_PROCS=8 BENCH_LEASES=2000 BENCH_CALLS=200
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { roomConfig } from "../../src/config.ts";
import { guardResources } from "../../src/coordination/guard.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { acquireLease, releaseLease } from "../../src/coordination/leases.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { LEASE_ACQUIRE } from "../../src/scripts.ts";
import { roomStatus } from "../../src/coordination/status.ts";
import {
  inFlight,
  median,
  ratio,
  type RedisServer,
  requireTools,
  run,
  table,
  timeMedians,
  withRedis,
} from "./_server.ts";

const SELF = fileURLToPath(import.meta.url);
const LONG = 30 * 60_000; // nothing lapses during a run
const setup = resolveIdentity("setup", "bench000");

// ---------------------------------------------------------------- worker side

/** Worker mode: `leases.ts --worker <url> <repo> <index> <pairs>`; starts on stdin EOF. */
async function worker([url, repo, index, count]: string[]): Promise<void> {
  const agent = resolveIdentity(`w${index}`, `bench${index}`);
  const redis = await connectRedis(parseRedisUrl(url!), { transport: "resp" });
  try {
    const room = new Room(redis, roomConfig({ repo: repo!, branch: "main" }));
    const pair = async (j: number) => {
      const r = await acquireLease(room, {
        agent,
        resources: [`path:w${index}/f${j % 50}`],
        purpose: "bench",
        ttlMs: LONG,
      });
      if (r.outcome !== "acquired") throw new Error(`acquire lost: ${JSON.stringify(r)}`);
      const done = await releaseLease(room, { agent, leaseId: r.lease.id });
      if (done.outcome !== "released") throw new Error(`release: ${done.outcome}`);
    };
    await pair(0); // loads both scripts
    await Deno.stdout.write(new TextEncoder().encode("ready\n"));
    await new Response(Deno.stdin.readable).text();
    for (let j = 0; j < Number(count); j++) await pair(j);
    await Deno.stdout.write(new TextEncoder().encode(`done ${count}\n`));
  } finally {
    await redis.close();
  }
}

// ---------------------------------------------------------------- parent side

/** N processes × M pairs; returns pairs per second after checking the audit trail. */
async function oursOnce(redis: RedisPort, url: string, procs: number, pairs: number) {
  const repo = `bench-leases-${crypto.randomUUID().slice(0, 8)}`;
  const room = new Room(redis, roomConfig({ repo, branch: "main" }));
  const children = Array.from({ length: procs }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", SELF, "--worker", url, repo, String(i), String(pairs)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const readers = children.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const texts = children.map(() => "");
  const readLine = async (i: number) => {
    while (!texts[i]!.includes("\n")) {
      const { value, done } = await readers[i]!.read();
      if (done) break;
      texts[i] += value;
    }
    const line = texts[i]!.slice(0, texts[i]!.indexOf("\n"));
    texts[i] = texts[i]!.slice(line.length + 1);
    return line;
  };
  const ready = await Promise.all(children.map((_, i) => readLine(i)));
  if (ready.some((l) => l !== "ready")) throw new Error("a lease worker did not start");
  const began = performance.now();
  await Promise.all(children.map((c) => c.stdin.close()));
  const done = await Promise.all(children.map((_, i) => readLine(i)));
  const seconds = (performance.now() - began) / 1000;
  for (const status of await Promise.all(children.map((c) => c.status))) {
    if (!status.success) throw new Error(`a lease worker exited with ${status.code}`);
  }
  if (done.some((l) => l !== `done ${pairs}`)) throw new Error(`workers reported ${done}`);
  const events = await redis.call(["XLEN", room.keys.events]) as number;
  if (events !== 2 * procs * (pairs + 1)) throw new Error(`${events} audit events`);
  if (await redis.call(["EXISTS", room.keys.leases]) !== 0) throw new Error("leases left over");
  return { rate: (procs * pairs) / seconds, seconds };
}

/** The script, keys and arguments `acquireLease` sends, captured by a recording port. */
async function captureAcquire(room: Room) {
  let sent: { keys: string[]; args: string[] } | undefined;
  const unexpected = () => Promise.reject(new Error("acquireLease sends more than one script"));
  const port: RedisPort = {
    address: "capture",
    call: unexpected,
    callBytes: unexpected,
    pipeline: unexpected,
    evalScript: (_script, keys, args) => {
      sent = { keys: [...keys], args: args.map(String) };
      return Promise.resolve(["ok", "{}", "0-1"]);
    },
    close: () => Promise.resolve(),
  };
  await acquireLease(new Room(port, room.config), {
    agent: setup,
    resources: ["db:x"],
    purpose: "bench",
    ttlMs: LONG,
  }).catch(() => {});
  return sent!;
}

/** redis-benchmark EVALSHA of the acquire script; each call a fresh id and resource. */
async function baselineOnce(redis: RedisPort, port: number, procs: number, calls: number) {
  const room = new Room(redis, roomConfig({ repo: "bench-leases-rb", branch: "main" }));
  const { keys, args } = await captureAcquire(room);
  args[5] = "rb__rand_int__"; // ARGV[6] lease id
  args[8] = "db:rb__rand_int__"; // ARGV[9] the resource
  const sha = (await redis.call(["SCRIPT", "LOAD", LEASE_ACQUIRE.source])) as string;
  const rb = ["-p", String(port), "-c", String(procs), "-n", String(calls), "-r", "1000000000"];
  const csv = await run("redis-benchmark", [
    ...rb,
    "--csv",
    "EVALSHA",
    sha,
    String(keys.length),
    ...keys,
    ...args,
  ]);
  const rate = Number(csv.trim().split("\n").at(-1)!.split('","')[1]);
  const won = await redis.call(["HLEN", room.keys.leases]) as number;
  return { rate, won };
}

/** A room with `leases` live leases (distinct resources) and `events` events in all. */
async function fill(redis: RedisPort, leases: number, events: number, width = 200) {
  const room = new Room(redis, roomConfig({ repo: `bench-scale-${leases}`, branch: "main" }));
  await inFlight(events, width, async (i) => {
    if (i < leases) {
      const r = await acquireLease(room, {
        agent: resolveIdentity(`a${i % 20}`, "bench000"),
        resources: [`path:src/m${i}`, `db:d${i}`],
        purpose: "bench",
        ttlMs: LONG,
      });
      if (r.outcome !== "acquired") throw new Error("fill: lease lost");
    } else await room.publish({ type: "NOTE", agent: setup, payload: { i } });
  });
  return room;
}

async function scaling(redis: RedisPort, calls: number) {
  const small = await fill(redis, 10, 100);
  const large = await fill(redis, 10_000, 100_000);
  // acquire + release of a free path (lib/ holds no lease), guard over the whole tree
  const probes = (room: Room) => [
    () => roomStatus(room, { limit: 10 }),
    () => roomStatus(room),
    async () => {
      const r = await acquireLease(room, {
        agent: setup,
        resources: ["path:lib/new.sql"],
        purpose: "probe",
        ttlMs: LONG,
      });
      if (r.outcome === "conflict") throw new Error("probe acquire lost");
      await releaseLease(room, { agent: setup, leaseId: r.lease.id });
    },
    () => guardResources(room, { agentId: setup.agent_id, resources: ["path:src", "db:d5"] }),
  ];
  const ms = await timeMedians([...probes(small), ...probes(large)], calls, 50);
  // listing every lease allocates a lot: measured on its own so it does not disturb the rest
  const all = await timeMedians(
    [
      () => roomStatus(small, { limit: 10_000 }),
      () => roomStatus(large, { limit: 10_000 }),
    ],
    Math.max(10, Math.floor(calls / 4)),
    5,
  );
  return { small: [...ms.slice(0, 4), all[0]!], large: [...ms.slice(4), all[1]!] };
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function leaseBench(server?: RedisServer): Promise<string> {
  await requireTools(["redis-benchmark"]);
  const procs = Number(Deno.env.get("BENCH_PROCS") ?? 8);
  const pairs = Number(Deno.env.get("BENCH_LEASES") ?? 2_000);
  const repeats = Number(Deno.env.get("BENCH_REPEATS") ?? 3);
  const calls = Number(Deno.env.get("BENCH_CALLS") ?? 200);
  return await withRedis(server, async ({ url, port }) => {
    const redis = await connectRedis(parseRedisUrl(url));
    try {
      const ours: number[] = [];
      const base: number[] = [];
      for (let i = 0; i < repeats; i++) {
        console.error(`leases: run ${i + 1}/${repeats}, ${procs} processes × ${pairs} pairs …`);
        await redis.call(["FLUSHALL"]);
        const r = await oursOnce(redis, url, procs, pairs);
        console.error(`  ours ${Math.round(r.rate)} acquire+release pairs/s, checked`);
        ours.push(r.rate);
        await redis.call(["FLUSHALL"]);
        const b = await baselineOnce(redis, port, procs, procs * pairs);
        console.error(`  redis-benchmark ${Math.round(b.rate)} acquires/s (${b.won} won)`);
        base.push(b.rate);
      }
      await redis.call(["FLUSHALL"]);
      console.error("leases: scaling (10 vs 10,000 live leases) …");
      const s = await scaling(redis, calls);
      await redis.call(["FLUSHALL"]);
      const f = (x: number) => Math.round(x).toLocaleString("en-US");
      const msText = (x: number) => `${x.toFixed(3)} ms`;
      const pairRate = median(ours);
      const rb = median(base);
      const labels = [
        "roomStatus({ limit: 10 }) (10 leases listed in both rooms, exact counts)",
        "roomStatus() (default cap: 10 vs 100 leases listed)",
        "acquireLease + releaseLease (a free path)",
        "guardResources(path:src, db:d5) (above every lease)",
        "roomStatus({ limit: 10000 }) (lists every lease)",
      ];
      return [
        `### Leases (${procs} processes × ${f(pairs)} acquire+release pairs, median of ${repeats})`,
        "",
        table(["client", "pairs /s", "script calls /s", "ours ÷ this"], [
          [
            `agentroom acquireLease+releaseLease, ${procs} processes (resp)`,
            f(pairRate),
            f(2 * pairRate),
            "1.00×",
          ],
          [
            `redis-benchmark -c ${procs} EVALSHA lease_acquire (fresh id and resource)`,
            "–",
            f(rb),
            ratio(2 * pairRate, rb),
          ],
        ]),
        "",
        `### Lease scaling: 10 live leases / 100 events vs 10,000 live leases / 100,000 events (median of ${calls})`,
        "",
        table(
          ["call", "10 leases", "10,000 leases", "large ÷ small"],
          labels.map((label, i) => [
            label,
            msText(s.small[i]!),
            msText(s.large[i]!),
            ratio(s.large[i]!, s.small[i]!),
          ]),
        ),
      ].join("\n");
    } finally {
      await redis.close();
    }
  });
}

if (import.meta.main) {
  if (Deno.args[0] === "--worker") await worker(Deno.args.slice(1));
  else console.log(await leaseBench());
}
