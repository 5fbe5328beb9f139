/**
 * Chaos scenarios: Redis faults.
 *
 * - kill -9 and restart with AOF (`--appendonly yes --appendfsync always`)
 *   under load: every acknowledged publish and claim is in the stream after
 *   the restarts, none twice;
 * - a hung server (SIGSTOP): every CLI command exits 1 with one `error:`
 *   line, every hook exits 0 silently, each within its deadline;
 * - out of memory (`maxmemory` + `noeviction`): clear errors, and each claim
 *   and lease either happened completely (state and audit event) or left no
 *   trace (scripts are atomic).
 *
 * @module
 */
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { claimTask } from "../../src/tasks.ts";
import {
  cliInProcess,
  cliProcess,
  HOOK_CASES,
  hookInProcess,
  hookPayload,
  STACK_TRACE,
} from "./_io.ts";
import { allEvents, n, type Profile, type Row, row, sleep, startServer } from "./_lib.ts";
import { publishTasks } from "./claims.ts";

/** Sizes per profile. */
export const FAULT_SIZES = {
  short: { restarts: 2, writers: 4, gapMs: 600, oomOps: 150, hungSample: "short" },
  full: { restarts: 12, writers: 8, gapMs: 1_500, oomOps: 600, hungSample: "full" },
} as const;

// ------------------------------------------------------------------ kill -9 + AOF

/** Runs the kill -9 / AOF restart scenario. */
export async function aofScenario(profile: Profile): Promise<Row[]> {
  const size = FAULT_SIZES[profile];
  const server = await startServer(["--appendonly", "yes", "--appendfsync", "always"]);
  const repo = `chaos-aof-${crypto.randomUUID().slice(0, 8)}`;
  const config = roomConfig({ repo, branch: "main" });
  const setupPort = await connectRedis(parseRedisUrl(server.url));
  const ids = await publishTasks(new Room(setupPort, config), 400);
  await setupPort.close();

  let stop = false;
  const acked: { id: string; w: number; seq: number }[] = [];
  const ackedClaims: { auditId: string; task: string }[] = [];
  let uncertain = 0;
  let reconnects = 0;
  const writer = async (w: number) => {
    const agent = resolveIdentity(`aof${w}`, `chaosaof${w}`);
    let port: RedisPort | undefined;
    let seq = 0;
    while (!stop) {
      try {
        port ??= await connectRedis(parseRedisUrl(server.url), {
          connectTimeoutMs: 300,
          commandTimeoutMs: 2_000,
        });
        const room = new Room(port, config);
        const mine = ++seq;
        if (mine % 4 === 0) {
          const task = ids[(w * 97 + mine) % ids.length]!;
          const r = await claimTask(room, { taskId: task, agent, ttlMs: 60_000 });
          if (r.outcome === "claimed" || r.outcome === "renewed") {
            ackedClaims.push({ auditId: r.auditId, task });
          }
        } else {
          const e = await room.publish({ type: "NOTE", agent, payload: { w, seq: mine } });
          acked.push({ id: e.id, w, seq: mine });
        }
      } catch {
        // the outcome of the call in flight is unknown: it may or may not have happened
        uncertain++;
        await port?.close().catch(() => {});
        port = undefined;
        reconnects++;
        await sleep(20);
      }
    }
    await port?.close().catch(() => {});
  };
  const writers = Array.from({ length: size.writers }, (_, w) => writer(w));
  try {
    for (let i = 0; i < size.restarts; i++) {
      await sleep(size.gapMs);
      await server.kill9();
      await sleep(100);
      await server.start(); // same port, same directory: loads the AOF
    }
    await sleep(size.gapMs);
  } finally {
    stop = true;
    await Promise.all(writers);
  }

  const port = await connectRedis(parseRedisUrl(server.url));
  const lost: string[] = [];
  const duplicated: string[] = [];
  let total = 0;
  try {
    const events = await allEvents(new Room(port, config));
    total = events.length;
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const a of acked) {
      const e = byId.get(a.id);
      const p = e?.payload as { w?: number; seq?: number } | undefined;
      if (!e || p?.w !== a.w || p?.seq !== a.seq) lost.push(`publish ${a.id} (w${a.w} #${a.seq})`);
    }
    for (const c of ackedClaims) {
      const e = byId.get(c.auditId);
      if (!e || e.type !== "TASK_CLAIMED" || e.reply_to !== c.task) {
        lost.push(`claim ${c.auditId} of ${c.task}`);
      }
    }
    const seen = new Set<string>();
    for (const e of events) {
      if (e.type !== "NOTE") continue;
      const p = e.payload as { w: number; seq: number };
      const key = `${p.w}/${p.seq}`;
      if (seen.has(key)) duplicated.push(`note w${p.w} #${p.seq} twice`);
      seen.add(key);
    }
    const claimsPerTask = new Map<string, number>();
    for (const e of events) {
      if (e.type === "TASK_CLAIMED") {
        claimsPerTask.set(e.reply_to, (claimsPerTask.get(e.reply_to) ?? 0) + 1);
      }
    }
    // TTL 60 s and one agent per task slot: a task claimed by two agents is a double claim
    const owners = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.type !== "TASK_CLAIMED") continue;
      const set = owners.get(e.reply_to) ?? new Set();
      set.add(e.agent_id);
      owners.set(e.reply_to, set);
    }
    for (const [task, set] of owners) {
      if (set.size > 1) duplicated.push(`task ${task} claimed by ${[...set].join(", ")}`);
    }
  } finally {
    await port.close();
    await server.stop();
  }
  const volume = `${size.restarts} × kill -9 + restart under ${size.writers} writers; ${
    n(acked.length)
  } acknowledged publishes, ${n(ackedClaims.length)} acknowledged claims, ${
    n(total)
  } events after; ${n(uncertain)} calls in flight at a kill (outcome unknown to the caller)`;
  return [
    row("faults", "kill -9 + AOF restart: acknowledged writes lost", volume, lost),
    row(
      "faults",
      "kill -9 + AOF restart: writes duplicated, tasks with two holders",
      volume,
      duplicated,
    ),
  ];
}

// ------------------------------------------------------------------ hung server

/** The CLI commands run against a hung server (none blocks by design). */
const HUNG_COMMANDS: string[][] = [
  ["post", "NOTE", "hello"],
  ["status"],
  ["tail"],
  ["who"],
  ["claim", "1-0"],
  ["lease", "acquire", "path:src/x", "--purpose", "p"],
  ["guard", "path:src/x"],
  ["inbox"],
  ["work", "started", "--scope", "x", "--summary", "y"],
  ["window", "request", "path:src", "--purpose", "p"],
];

/** Runs the hung-server scenario: SIGSTOP, then every command and hook. */
export async function hungScenario(profile: Profile): Promise<Row[]> {
  const server = await startServer();
  const env = {
    AGENTROOM_REDIS_URL: server.url,
    REPO_ID: `chaos-hung-${crypto.randomUUID().slice(0, 8)}`,
    BRANCH_NAME: "main",
    AGENTROOM_SESSION_ID: "chaoshung0001",
  };
  const cliBad: string[] = [];
  const hookBad: string[] = [];
  let cliMax = 0;
  let hookMax = 0;
  let runs = 0;
  try {
    server.signal("SIGSTOP");
    const jobs: (() => Promise<void>)[] = [];
    for (const args of HUNG_COMMANDS) {
      const check = (
        r: { code: number; stdout: string; stderr: string; ms: number },
        how: string,
      ) => {
        runs++;
        cliMax = Math.max(cliMax, r.ms);
        const lines = r.stderr.split("\n").filter((l) => l !== "");
        if (
          r.code !== 1 || lines.length !== 1 || !lines[0]!.startsWith("error: ") || r.stdout !== ""
        ) {
          cliBad.push(
            `${how} ${args.join(" ")}: exit ${r.code}, stderr ${
              JSON.stringify(r.stderr.slice(0, 200))
            }`,
          );
        }
      };
      jobs.push(async () => check(await cliInProcess(args, env), "in-process"));
      if (profile === "full" || args[0] === "post" || args[0] === "status") {
        jobs.push(async () => check(await cliProcess(args, env, "", 20_000), "subprocess"));
      }
    }
    for (const [event, name] of HOOK_CASES) {
      const stdin = JSON.stringify(hookPayload(name, { cwd: Deno.cwd() }));
      const check = (
        r: { code: number; stdout: string; stderr: string; ms: number },
        how: string,
      ) => {
        runs++;
        hookMax = Math.max(hookMax, r.ms);
        if (r.code !== 0 || r.stdout !== "" || r.stderr !== "") {
          hookBad.push(
            `${how} hook ${event}: exit ${r.code}, output ${
              JSON.stringify((r.stdout + r.stderr).slice(0, 200))
            }`,
          );
        }
      };
      jobs.push(async () => check(await hookInProcess(event, stdin, env), "in-process"));
      jobs.push(async () =>
        check(await cliProcess(["hook", event], env, stdin, 20_000), "subprocess")
      );
    }
    // a few at a time: each waits for its deadline
    for (let i = 0; i < jobs.length; i += 6) {
      await Promise.all(jobs.slice(i, i + 6).map((j) => j()));
    }
  } finally {
    server.signal("SIGCONT");
    await server.stop();
  }
  const volume =
    `${runs} runs against a SIGSTOPped server (${HUNG_COMMANDS.length} commands, ${HOOK_CASES.length} hooks; in-process and as subprocesses)`;
  return [
    row(
      "faults",
      "hung server: CLI not exiting 1 with one `error:` line",
      volume,
      cliBad,
      `slowest CLI run ${
        Math.round(cliMax)
      } ms (connect 1.5 s + command 2 s deadlines, plus process start)`,
    ),
    row(
      "faults",
      "hung server: hook not exiting 0 silently",
      volume,
      hookBad,
      `slowest hook run ${Math.round(hookMax)} ms (hook deadline 1.5 s, plus process start)`,
    ),
  ];
}

// ------------------------------------------------------------------ OOM

/** Runs the out-of-memory scenario: fill to `maxmemory`, then claims, leases, CLI, hooks. */
export async function oomScenario(profile: Profile): Promise<Row[]> {
  const size = FAULT_SIZES[profile];
  const server = await startServer(["--maxmemory-policy", "noeviction"]);
  const repo = `chaos-oom-${crypto.randomUUID().slice(0, 8)}`;
  const config = roomConfig({ repo, branch: "main" });
  const port = await connectRedis(parseRedisUrl(server.url));
  const halfWritten: string[] = [];
  const unclear: string[] = [];
  let failed = 0;
  let succeeded = 0;
  try {
    const room = new Room(port, config);
    const ids = await publishTasks(room, size.oomOps);
    const used = Number(
      String(await port.call(["INFO", "memory"])).match(/used_memory:(\d+)/)?.[1],
    );
    await port.call(["CONFIG", "SET", "maxmemory", String(used + 2 * 1024 * 1024)]);
    const filler = resolveIdentity("filler", "chaosoom0001");
    const blob = "x".repeat(8_000);
    // fill until Redis refuses
    let fillError = "";
    for (let i = 0; i < 5_000 && fillError === ""; i++) {
      try {
        await room.publish({ type: "FILL", agent: filler, payload: blob });
      } catch (error) {
        fillError = String((error as Error).message);
      }
    }
    // the server must have refused for lack of memory, else nothing below is tested
    if (!/OOM|memory/i.test(fillError)) {
      unclear.push(`filling did not hit maxmemory: ${fillError || "no error"}`);
    }
    // room for some of the claims and leases below, not all: the boundary is crossed mid-run
    const full = Number(
      String(await port.call(["INFO", "memory"])).match(/used_memory:(\d+)/)?.[1],
    );
    await port.call(["CONFIG", "SET", "maxmemory", String(full + 400 * 1024)]);
    const errors = new Set<string>();
    for (const [i, task] of ids.entries()) {
      if (i === Math.floor(ids.length / 2)) {
        // the second half runs at the limit, whatever the first half used
        const now = Number(
          String(await port.call(["INFO", "memory"])).match(/used_memory:(\d+)/)?.[1],
        );
        await port.call(["CONFIG", "SET", "maxmemory", String(now)]);
      }
      const agent = resolveIdentity(`o${i}`, `chaosoom${1000 + i}`);
      try {
        const r = await claimTask(room, { taskId: task, agent, ttlMs: 600_000 });
        if (r.outcome === "claimed") succeeded++;
      } catch (error) {
        failed++;
        errors.add(String((error as Error).message).slice(0, 120));
      }
      try {
        const r = await acquireLease(room, {
          agent,
          resources: [`path:oom/${i}`],
          purpose: "oom",
          ttlMs: 600_000,
        });
        if (r.outcome === "acquired") succeeded++;
      } catch (error) {
        failed++;
        errors.add(String((error as Error).message).slice(0, 120));
      }
    }
    for (const message of errors) {
      if (!/OOM|memory/i.test(message)) unclear.push(`library error: ${message}`);
    }
    // the CLI and a hook on the full server
    const env = {
      AGENTROOM_REDIS_URL: server.url,
      REPO_ID: repo,
      BRANCH_NAME: "main",
      AGENTROOM_SESSION_ID: "chaosoomcli1",
    };
    for (
      const args of [["post", "NOTE", blob], ["claim", ids[0]!], [
        "lease",
        "acquire",
        "path:oom/cli",
        "--purpose",
        "p",
      ]]
    ) {
      const r = await cliInProcess(args, env);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      if (r.code === 0) continue; // it may fit
      if (
        r.code !== 1 && r.code !== 3 || lines.length !== 1 || !lines[0]!.startsWith("error: ") ||
        STACK_TRACE.test(r.stderr)
      ) {
        unclear.push(`${args[0]}: exit ${r.code}, ${JSON.stringify(r.stderr.slice(0, 200))}`);
      }
    }
    const hook = await hookInProcess(
      "session-start",
      JSON.stringify(hookPayload("claude_session_start", { cwd: Deno.cwd() })),
      env,
    );
    if (hook.code !== 0) unclear.push(`session-start hook exit ${hook.code}`);

    // every claim and lease: all or nothing
    await port.call(["CONFIG", "SET", "maxmemory", "0"]);
    const events = await allEvents(room);
    const claimed = new Map<string, string>();
    const leased = new Set<string>();
    for (const e of events) {
      if (e.type === "TASK_CLAIMED") claimed.set(e.reply_to, e.agent_id);
      if (e.type === "LEASE_ACQUIRED") {
        for (const r of (e.payload as { lease: { resources: string[] } }).lease.resources) {
          leased.add(r);
        }
      }
    }
    const owners = await port.pipeline(ids.map((id) => ["GET", room.keys.taskOwner(id)]));
    ids.forEach((id, i) => {
      const owner = owners[i];
      if ((typeof owner === "string") !== claimed.has(id)) {
        halfWritten.push(
          `task ${id}: owner key ${owner ?? "absent"}, TASK_CLAIMED ${
            claimed.has(id) ? "present" : "absent"
          }`,
        );
      }
    });
    const snapshotLeases = new Set<string>();
    const { readSnapshot } = await import("../../src/coordination/shared.ts");
    for (const l of (await readSnapshot(room)).leases) {
      for (const r of l.resources) snapshotLeases.add(r);
    }
    for (let i = 0; i < ids.length; i++) {
      const r = `path:oom/${i}`;
      if (snapshotLeases.has(r) !== leased.has(r)) {
        halfWritten.push(
          `${r}: live lease ${snapshotLeases.has(r)}, LEASE_ACQUIRED ${leased.has(r)}`,
        );
      }
    }
  } finally {
    await port.close();
    await server.stop();
  }
  const volume = `${n(size.oomOps * 2)} claims and leases on a server at maxmemory (noeviction): ${
    n(failed)
  } refused, ${n(succeeded)} succeeded`;
  return [
    row(
      "faults",
      "OOM: half-written claims or leases (state without audit event or the reverse)",
      volume,
      halfWritten,
    ),
    row(
      "faults",
      "OOM: unclear errors (not naming memory; CLI not one `error:` line; hook not silent)",
      volume,
      unclear,
    ),
  ];
}
