/**
 * Exactly-once claims under contention: separate processes (`support/claimer.ts`,
 * one RESP connection each) race over the same 1,000 tasks, each in its own
 * random order. Checked from both sides: what the processes say they won and
 * what the server recorded (TASK_CLAIMED audit events, owner keys).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { RoomEvent } from "../src/codec.ts";
import { roomConfig } from "../src/config.ts";
import { resolveIdentity } from "../src/identity.ts";
import { connectRedis } from "../src/redis/connect.ts";
import type { RedisPort } from "../src/redis/port.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { Room } from "../src/room.ts";
import { claimLoad, completeTask, openTasks, registerTask } from "../src/tasks.ts";
import { shared, uniqueRepo } from "./support/redis.ts";
import type { ClaimerReport } from "./support/claimer.ts";

const CLAIMER = fileURLToPath(new URL("./support/claimer.ts", import.meta.url));
const PROCESSES = 8;
const TASKS = 1_000;
/** Every PRE_DONE-th task is completed before the race. */
const PRE_DONE = 10;
const setup = resolveIdentity("setup", "ssss0000");

interface Race {
  room: Room;
  redis: RedisPort;
  ids: string[];
  done: Set<string>;
  reports: ClaimerReport[];
  /** TASK_CLAIMED audit events per task id, in stream order. */
  claims: Map<string, RoomEvent[]>;
}

/** Reads one line from a byte stream, returning the line and a reader for the rest. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ line: string; rest: () => Promise<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const newline = buffer.indexOf("\n");
    if (newline !== -1) {
      const tail = buffer.slice(newline + 1);
      const rest = async () => {
        let text = tail;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += value;
        }
      };
      return { line: buffer.slice(0, newline), rest };
    }
    const { value, done } = await reader.read();
    if (done) return { line: buffer, rest: () => Promise.resolve("") };
    buffer += value;
  }
}

/** Publishes the tasks, completes some, races PROCESSES claimers, and collects both views. */
async function race(ttlMs: number): Promise<Race> {
  const repo = uniqueRepo("race");
  const redis = await connectRedis(parseRedisUrl(shared.url));
  const room = new Room(redis, roomConfig({ repo, branch: "main" }));
  await registerTask(room, { type: "RACE", description: "race me" });
  const ids: string[] = [];
  for (let batch = 0; batch < TASKS; batch += 250) {
    const events = await Promise.all(
      Array.from(
        { length: 250 },
        (_, i) => room.publish({ type: "RACE", agent: setup, payload: batch + i }),
      ),
    );
    ids.push(...events.map((e) => e.id));
  }
  const done = new Set(ids.filter((_, i) => i % PRE_DONE === 0));
  await Promise.all(
    [...done].map(async (taskId) => {
      const r = await completeTask(room, { taskId, agent: setup, result: "pre-done" });
      assert.equal(r.outcome, "completed");
    }),
  );

  const children = Array.from({ length: PROCESSES }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        CLAIMER,
        shared.url,
        repo,
        `w${i}`,
        `race${String(i).padStart(4, "0")}`,
        `${ttlMs}`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).spawn());
  try {
    const stderr = children.map((c) => new Response(c.stderr).text());
    const starts = await Promise.all(children.map((c) => firstLine(c.stdout)));
    for (const [i, s] of starts.entries()) {
      // (stderr is only awaited on failure: it closes when the worker exits)
      if (s.line !== "ready") assert.fail(`worker ${i} did not start: ${await stderr[i]}`);
    }
    // the start signal: every worker gets the ids at once
    const payload = new TextEncoder().encode(JSON.stringify(ids));
    await Promise.all(children.map(async (c) => {
      const writer = c.stdin.getWriter();
      await writer.write(payload);
      await writer.close();
    }));
    const outputs = await Promise.all(starts.map((s) => s.rest()));
    const statuses = await Promise.all(children.map((c) => c.status));
    for (const [i, status] of statuses.entries()) {
      if (status.code !== 0) assert.fail(`worker ${i} failed: ${await stderr[i]}`);
    }
    await Promise.all(stderr);
    const reports = outputs.map((text) => JSON.parse(text) as ClaimerReport);

    const claims = new Map<string, RoomEvent[]>();
    for (const e of await room.since("0-0", 1_000_000)) {
      if (e.type !== "TASK_CLAIMED") continue;
      const list = claims.get(e.reply_to) ?? [];
      list.push(e);
      claims.set(e.reply_to, list);
    }
    return { room, redis, ids, done, reports, claims };
  } catch (error) {
    for (const c of children) {
      try {
        c.kill();
      } catch { /* already exited */ }
    }
    await redis.close();
    throw error;
  }
}

/** Checks shared by both races: attempts, done tasks untouched, wins == audit events. */
function checkCommon(r: Race): Map<string, string[]> {
  const winners = new Map<string, string[]>(r.ids.map((id) => [id, []]));
  const byAudit = new Map<string, { agent: string; id: string; expiresAt: number }>();
  for (const report of r.reports) {
    const attempts = Object.values(report.outcomes).reduce((a, b) => a + b, 0);
    assert.equal(attempts, TASKS, `${report.agent} tried every task once`);
    assert.deepEqual(
      Object.keys(report.outcomes).filter((o) => !["claimed", "held", "done"].includes(o)),
      [],
      `${report.agent} outcomes ${JSON.stringify(report.outcomes)}`,
    );
    for (const win of report.wins) {
      winners.get(win.id)!.push(report.agent);
      byAudit.set(win.auditId, { agent: report.agent, id: win.id, expiresAt: win.expiresAt });
    }
  }
  for (const id of r.done) {
    assert.deepEqual(winners.get(id), [], `done task ${id} has no winner`);
    assert.equal(r.claims.get(id), undefined, `done task ${id} has no TASK_CLAIMED`);
  }
  // every win the processes report is one TASK_CLAIMED on the server, and vice versa
  let audited = 0;
  for (const [id, events] of r.claims) {
    for (const e of events) {
      audited++;
      const win = byAudit.get(e.id);
      assert.ok(win, `TASK_CLAIMED ${e.id} for ${id} was reported by a process`);
      assert.equal(win.id, id);
      assert.equal(win.agent, e.agent_id);
      const ttl = (e.payload as { ttl_ms: number }).ttl_ms;
      assert.equal(win.expiresAt, e.timestamp + ttl, "lease deadline = audit time + TTL");
    }
  }
  assert.equal(audited, byAudit.size);
  return winners;
}

Deno.test(`${PROCESSES} processes racing over ${TASKS} tasks: exactly one winner per open task`, async () => {
  const r = await race(60_000);
  try {
    const winners = checkCommon(r);
    for (const id of r.ids) {
      if (r.done.has(id)) continue;
      assert.equal(winners.get(id)!.length, 1, `task ${id}: winners ${winners.get(id)}`);
      assert.equal(r.claims.get(id)?.length, 1, `task ${id}: one TASK_CLAIMED`);
    }
    // owner keys agree with the winners; done tasks have none
    const owners = await r.redis.pipeline(r.ids.map((id) => ["GET", r.room.keys.taskOwner(id)]));
    r.ids.forEach((id, i) => {
      assert.equal(owners[i], r.done.has(id) ? null : winners.get(id)![0], `owner of ${id}`);
    });
    const open = TASKS - r.done.size;
    const load = await claimLoad(r.room);
    assert.equal([...load.values()].reduce((a, b) => a + b, 0), open);
    for (const report of r.reports) {
      assert.equal(load.get(report.agent) ?? 0, report.wins.length, `load of ${report.agent}`);
      assert.equal(report.outcomes.done, r.done.size, `${report.agent} saw every done task`);
    }
    // every open task: one process won it, each of the others found it held
    assert.equal(
      r.reports.reduce((n, report) => n + (report.outcomes.held ?? 0), 0),
      (PROCESSES - 1) * open,
    );
    assert.deepEqual(await openTasks(r.room, 1_000), []);
  } finally {
    await r.redis.close();
  }
});

Deno.test(`${PROCESSES} processes racing with leases lapsing mid-race: holds never overlap`, async () => {
  const ttlMs = 40;
  const r = await race(ttlMs);
  try {
    const winners = checkCommon(r);
    for (const id of r.ids) {
      if (r.done.has(id)) continue;
      const agents = winners.get(id)!;
      assert.ok(agents.length >= 1, `task ${id} was won at least once`);
      assert.equal(new Set(agents).size, agents.length, `task ${id}: a process wins it once`);
      // Successive claims never overlap: each next TASK_CLAIMED is stamped at
      // least TTL after the previous one. The claim script reads the server
      // clock once (floored to whole ms, T) and uses it for the audit
      // timestamp and for the lease deadline (SET PXAT T + ttl). Redis treats
      // a key as expired only when its clock, also whole ms, is strictly past
      // the deadline (lazily at the next claim's script start, or by active
      // expiry), and the next claim stamps a reading taken after that. So the
      // next timestamp is >= T + ttl + 1 in integer ms: no rounding slack,
      // because every value compared is an integer count of ms from one clock.
      const events = r.claims.get(id)!;
      assert.equal(events.length, agents.length);
      for (let i = 1; i < events.length; i++) {
        const previous = events[i - 1]!;
        const next = events[i]!;
        assert.ok(
          next.timestamp >= previous.timestamp + ttlMs,
          `task ${id}: ${next.agent_id} claimed at ${next.timestamp} while ${previous.agent_id} ` +
            `held it from ${previous.timestamp} for ${ttlMs} ms`,
        );
        assert.notEqual(next.agent_id, previous.agent_id);
      }
    }
    // How many leases lapse mid-race depends on the machine's speed, so it is
    // not asserted: the invariants above hold however many (or few) do.
  } finally {
    await r.redis.close();
  }
});
