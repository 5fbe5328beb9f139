/**
 * agentroom on a real three-master Redis Cluster: every Lua script of a room
 * runs without CROSSSLOT in rooms whose hash tags live on different masters,
 * and the CLI and a hook work in cluster mode (`AGENTROOM_REDIS_CLUSTER=1`)
 * through a seed node that does not own the room.
 */
import assert from "node:assert/strict";
import { LOBBY, roomConfig } from "../src/config.ts";
import { guardResources } from "../src/coordination/guard.ts";
import { type AgentIdentity, resolveIdentity, sessionTokenOf } from "../src/identity.ts";
import { markInboxRead, unreadInbox } from "../src/inbox.ts";
import { clusterSlot, roomKeys } from "../src/keys.ts";
import { acquireLease, breakLease, releaseLease, renewLease } from "../src/coordination/leases.ts";
import { ask, pinWelcome, reply } from "../src/messaging.ts";
import { clearSessionPresence, heartbeat, refreshPresence, roster } from "../src/presence.ts";
import { connectIoredisCluster } from "../src/redis/ioredis.ts";
import type { LuaScript, RedisPort } from "../src/redis/port.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { commitCursor, readCursor } from "../hooks/cursors.ts";
import { Room } from "../src/room.ts";
import { Runtime } from "../src/runtime.ts";
import { listDeadLetters, retryDeadLetter } from "../src/groups.ts";
import { decodePruneConsumerReply } from "../src/replies.ts";
import * as scripts from "../src/scripts.ts";
import { roomStatus } from "../src/coordination/status.ts";
import {
  claimLoad,
  claimTask,
  completeTask,
  openTasks,
  registerTask,
  releaseTask,
  stealTask,
} from "../src/tasks.ts";
import { sweepLapses } from "../src/coordination/lapses.ts";
import { requestWindow } from "../src/coordination/windows.ts";
import { ackWindow, activateWindow, releaseWindow } from "../src/coordination/window_lifecycle.ts";
import { setWorkStatus } from "../src/coordination/work.ts";
import {
  roomKeyCount,
  type StartedRedis,
  startRedis,
  uniqueRepo,
  withRedis,
} from "./support/redis.ts";
import { type Recorded, recordingPort } from "./support/recording.ts";
import { until } from "./support/poll.ts";
import { type CliResult, runCli } from "./support/cli.ts";
import { assertSilent, hookOutput, payload, runHook } from "./support/hook.ts";

// ---------------------------------------------------------------- the cluster

/** A running three-master cluster. */
interface TestCluster {
  /** The masters, by port. */
  nodes: StartedRedis[];
  /** Which master (its port) serves a slot. */
  ownerOf(slot: number): number;
  stop(): Promise<void>;
}

/**
 * Starts three cluster-enabled servers, joins them with `redis-cli --cluster
 * create` and waits (with a deadline) until every node reports
 * `cluster_state:ok`. Throws with the reason when the cluster cannot be formed.
 */
async function startCluster(): Promise<TestCluster> {
  const dir = await Deno.makeTempDir({ prefix: "agentroom-cluster-" });
  const nodes: StartedRedis[] = [];
  const stop = async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const started = await Promise.allSettled([0, 1, 2].map((i) =>
      startRedis([
        ...["--cluster-enabled", "yes", "--cluster-config-file", `${dir}/nodes-${i}.conf`],
        // peers ping each other every node-timeout/2: a short timeout makes the join quick
        ...["--cluster-node-timeout", "2000", "--cluster-announce-ip", "127.0.0.1"],
      ])
    ));
    for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw new Error(`cannot start a cluster-mode redis-server: ${failed.reason}`);
    nodes.sort((a, b) => a.port - b.port);

    const create = await new Deno.Command("redis-cli", {
      args: [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        ...["--cluster-replicas", "0", "--cluster-yes"],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(15_000),
    }).output();
    const text = new TextDecoder().decode(create.stdout) + new TextDecoder().decode(create.stderr);
    if (!create.success) {
      throw new Error(`redis-cli --cluster create failed (exit ${create.code}):\n${text}`);
    }

    await until(
      `every node to report cluster_state:ok after redis-cli:\n${text}`,
      async () => {
        const states = await Promise.all(nodes.map((n) =>
          withRedis(n.url, async (redis) => {
            const info = String(await redis.call(["CLUSTER", "INFO"]));
            return info.match(/cluster_state:(\w+)/)?.[1] ?? "?";
          })
        ));
        return states.every((s) => s === "ok");
      },
      10_000,
    );

    // slot ranges from CLUSTER NODES: `<id> <ip:port@bus> <flags> ... <range>...`
    const table = String(await withRedis(nodes[0]!.url, (r) => r.call(["CLUSTER", "NODES"])));
    const ranges: { from: number; to: number; port: number }[] = [];
    for (const line of table.trim().split("\n")) {
      const fields = line.split(" ");
      const port = Number(fields[1]!.split("@")[0]!.split(":").at(-1));
      assert.ok(fields[2]!.includes("master"), `three masters: ${line}`);
      for (const range of fields.slice(8)) {
        const [from, to = from] = range.split("-").map(Number) as [number, number?];
        ranges.push({ from, to: to!, port });
      }
    }
    assert.deepEqual(
      [...new Set(ranges.map((r) => r.port))].sort(),
      nodes.map((n) => n.port),
      "every master serves slots",
    );
    const ownerOf = (slot: number) => {
      const owner = ranges.find((r) => r.from <= slot && slot <= r.to);
      assert.ok(owner, `slot ${slot} is served`);
      return owner.port;
    };
    return { nodes, ownerOf, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `could not form a 3-master Redis Cluster on this machine: ${
        error instanceof Error ? error.message : error
      }`,
      { cause: error },
    );
  }
}

/** The slot of a room's hash tag. */
function roomSlot(repo: string): number {
  return clusterSlot(roomKeys({ repo, branch: "main" }).events);
}

/** A fresh repo name whose room lives on the master at `port`. */
function repoOn(cluster: TestCluster, port: number, prefix: string): string {
  for (;;) {
    const repo = uniqueRepo(prefix);
    if (cluster.ownerOf(roomSlot(repo)) === port) return repo;
  }
}

// ---------------------------------------------------------------- recording scripts

/** The names of every Lua script src/scripts.ts exports. */
const ALL_SCRIPTS: string[] = Object.values(scripts)
  .filter((value): value is LuaScript =>
    typeof value === "object" && value !== null && "source" in value && "name" in value
  )
  .map((script) => script.name)
  .sort();

// ---------------------------------------------------------------- the library scenario

function expectOutcome<T extends { outcome: string }>(result: T, outcome: string): T {
  assert.equal(result.outcome, outcome, JSON.stringify(result));
  return result;
}

/**
 * Everything a room does, through two cluster connections (alice and bob):
 * presence, publish with inbox copies, reads, cursors, tasks, leases, the
 * guard, windows, work, status, ask/reply.
 */
async function exerciseRoom(
  ports: { alice: RedisPort; bob: RedisPort },
  repo: string,
  people: { alice: AgentIdentity; bob: AgentIdentity },
): Promise<void> {
  const { alice, bob } = people;
  const config = roomConfig({ repo, branch: "main" });
  const a = new Room(ports.alice, config);
  const b = new Room(ports.bob, config);

  // presence
  await heartbeat(a, { identity: alice, description: "on the cluster" });
  await refreshPresence(b, bob);
  assert.deepEqual(
    (await roster(b)).map((e) => e.identity.agent_id),
    [alice.agent_id, bob.agent_id].sort(),
  );

  // publish with an inbox copy; reads; the inbox cursor and the session cursor
  const note = await a.publish({
    type: "NOTE",
    agent: alice,
    payload: { text: `hello ${repo}` },
    to: bob.agent_id,
    inbox: true,
  });
  assert.deepEqual((await b.recent(10)).map((e) => e.id), [note.id]);
  assert.deepEqual((await b.since("0-0", 10)).map((e) => e.id), [note.id]);
  assert.deepEqual((await b.eventById(note.id))?.payload, { text: `hello ${repo}` });
  const unread = await unreadInbox(b, { recipient: bob.agent_id });
  assert.deepEqual(unread.map((e) => e.event.id), [note.id]);
  const inboxId = unread[0]!.inbox_id;
  assert.equal(await markInboxRead(b, { recipient: bob.agent_id, inboxId }), inboxId);
  assert.deepEqual(await unreadInbox(b, { recipient: bob.agent_id }), []);
  await commitCursor(a, { sessionId: alice.session_id, id: note.id });
  assert.equal(await readCursor(a, alice.session_id), note.id);

  // tasks: a task event before its type is registered is found by the backfill
  const task = await a.publish({ type: "BUILD", agent: alice, payload: { target: repo } });
  assert.equal(await registerTask(a, { type: "BUILD", description: "build it" }), 1);
  assert.deepEqual((await openTasks(b, 10)).map((e) => e.id), [task.id]);
  expectOutcome(await claimTask(b, { taskId: task.id, agent: bob }), "claimed");
  expectOutcome(await claimTask(a, { taskId: task.id, agent: alice }), "held");
  assert.deepEqual([...await claimLoad(a)], [[bob.agent_id, 1]]);
  expectOutcome(await releaseTask(b, { taskId: task.id, agent: bob }), "released");
  expectOutcome(await claimTask(a, { taskId: task.id, agent: alice }), "claimed");
  expectOutcome(
    await completeTask(a, { taskId: task.id, agent: alice, result: { ok: true } }),
    "completed",
  );
  assert.deepEqual(await openTasks(b, 10), []);

  // leases and the guard
  const { lease } = expectOutcome(
    await acquireLease(a, { agent: alice, resources: ["path:src/db/"], purpose: "migrate" }),
    "acquired",
  ) as { lease: { id: string } };
  const unsafe = await guardResources(b, {
    agentId: bob.agent_id,
    resources: ["path:src/db/schema.sql"],
  });
  assert.equal(unsafe.safe, false);
  assert.equal(!unsafe.safe && unsafe.reason, "conflict");
  const safe = await guardResources(a, {
    agentId: alice.agent_id,
    resources: ["path:src/db/schema.sql"],
    leaseId: lease.id,
  });
  assert.equal(safe.safe, true, JSON.stringify(safe));
  expectOutcome(await renewLease(a, { agent: alice, leaseId: lease.id }), "renewed");
  expectOutcome(await releaseLease(a, { agent: alice, leaseId: lease.id }), "released");

  // a quiet window that bob must acknowledge
  const { window } = expectOutcome(
    await requestWindow(a, {
      agent: alice,
      resources: ["path:src/db"],
      purpose: "schema migration",
      require: [bob.agent_id],
    }),
    "pending",
  ) as { window: { id: string } };
  expectOutcome(await ackWindow(b, { agent: bob, windowId: window.id }), "acknowledged");
  expectOutcome(await activateWindow(a, { agent: alice, windowId: window.id }), "activated");
  expectOutcome(await releaseWindow(a, { agent: alice, windowId: window.id }), "released");

  // work status handed to bob (with its inbox copy), then the room's status
  const work = await setWorkStatus(a, {
    agent: alice,
    state: "handoff",
    scope: "migration",
    summary: "schema done, please review",
    to: bob.agent_id,
  });
  assert.ok(work.inboxId, "the handoff lands in bob's inbox");
  const status = await roomStatus(b);
  assert.deepEqual(status.work.map((w) => w.id), [work.status.id]);
  assert.equal(status.lease_count, 0);
  assert.equal(status.window_count, 0);
  assert.equal(status.presence.length, 2);

  // ask (alice blocks on XREAD) and reply (bob, on his own connection)
  let replied: Promise<unknown> = Promise.resolve();
  const answer = await ask(a, {
    agent: alice,
    to: bob.agent_id,
    message: "ready to merge?",
    timeoutMs: 5_000,
    onAsked: (asked) => {
      replied = reply(b, { agent: bob, askId: asked.id, message: "yes" });
    },
  });
  await replied;
  assert.equal(answer.reply?.payload, "yes");
  assert.equal(answer.reply?.reply_to, answer.ask.id);

  // a worker: a failing execute dead-letters (runtime_fail); the dead letter is retried (dlq_retry)
  const failing = new Runtime(a, {
    id: "cl-worker",
    interests: ["CL_JOB"],
    execute: () => Promise.reject(new Error("no")),
  }, { blockMs: 50, maxAttempts: 1 });
  await failing.ensureGroup();
  await b.publish({ type: "CL_JOB", agent: bob, payload: null });
  const stopWorker = new AbortController();
  const listening = failing.listen(stopWorker.signal);
  await until("dead-lettered", async () => (await listDeadLetters(a, "cl-worker")).length === 1);
  stopWorker.abort();
  await listening;
  const [letter] = await listDeadLetters(a, "cl-worker");
  assert.ok(await retryDeadLetter(a, "cl-worker", letter!.deadId));
  // an idle consumer is removed only while it holds nothing pending (prune_consumer)
  await a.redis.call(["XGROUP", "CREATECONSUMER", a.keys.events, "cl-worker", "idle-one"]);
  assert.equal(
    decodePruneConsumerReply(
      await a.redis.evalScript(scripts.PRUNE_CONSUMER, [a.keys.events], ["cl-worker", "idle-one"]),
    ),
    true,
  );

  // leaving
  assert.deepEqual(await clearSessionPresence(a, alice.session_id), [alice.agent_id]);
  assert.deepEqual((await roster(b)).map((e) => e.identity.agent_id), [bob.agent_id]);

  // alice is gone: bob breaks her lease and takes over her claim; a lapse is noticed once
  const held = expectOutcome(
    await acquireLease(a, { agent: alice, resources: ["db:left"], purpose: "left behind" }),
    "acquired",
  ) as { lease: { id: string } };
  expectOutcome(
    await breakLease(b, { agent: bob, leaseId: held.lease.id, reason: "alice left", now: true }),
    "broken",
  );
  const task2 = await a.publish({ type: "BUILD", agent: alice, payload: { again: repo } });
  expectOutcome(await claimTask(a, { taskId: task2.id, agent: alice }), "claimed");
  expectOutcome(await stealTask(b, { taskId: task2.id, agent: bob, now: true }), "stolen");
  const short = expectOutcome(
    await acquireLease(a, { agent: alice, resources: ["db:short"], purpose: "p", ttlMs: 1 }),
    "acquired",
  ) as { lease: { expires_at: number } };
  await until(
    "the short lease lapsed",
    async () => (await b.serverTime()) > short.lease.expires_at,
  );
  assert.equal((await sweepLapses(b)).notices, 1);
}

// ---------------------------------------------------------------- CLI helpers

function expectExit(r: CliResult, code: number, what: string): CliResult {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  return r;
}

// ---------------------------------------------------------------- the tests

Deno.test("Redis Cluster (3 masters): every script runs on every master; CLI and hooks in cluster mode", async (t) => {
  const cluster = await startCluster();
  try {
    const seed = cluster.nodes[0]!;
    const seedEndpoint = parseRedisUrl(seed.url);

    await t.step("rooms on all three masters run every Lua script without CROSSSLOT", async () => {
      const log: Recorded[] = [];
      const [alicePort, bobPort] = await Promise.all([
        connectIoredisCluster([seedEndpoint]),
        // bob seeds from another node: discovery works from any of them
        connectIoredisCluster([parseRedisUrl(cluster.nodes[2]!.url)]),
      ]);
      const ports = { alice: recordingPort(alicePort, log), bob: recordingPort(bobPort, log) };
      try {
        const repos = cluster.nodes.map((n, i) => repoOn(cluster, n.port, `cl${i}`));
        // the server agrees with the slots we computed
        for (const repo of repos) {
          const slot = await alicePort.call([
            "CLUSTER",
            "KEYSLOT",
            roomKeys({ repo, branch: "main" }).events,
          ]);
          assert.equal(slot, roomSlot(repo));
        }
        assert.equal(new Set(repos.map((r) => cluster.ownerOf(roomSlot(r)))).size, 3);

        for (const [i, repo] of repos.entries()) {
          const token = `t${i}${crypto.randomUUID().slice(0, 6)}`;
          await exerciseRoom(ports, repo, {
            alice: resolveIdentity("alice", token),
            bob: resolveIdentity("bob", `u${i}${crypto.randomUUID().slice(0, 6)}`),
          });
        }

        // the lobby (its own slot): the pinned welcome replaces the previous one
        const lobby = new Room(ports.alice, roomConfig(LOBBY));
        const admin = resolveIdentity("admin", "adm00001");
        const first = await pinWelcome(lobby, admin);
        assert.equal((await pinWelcome(lobby, admin)).replaced, first.id);

        // every call's keys hash to one slot; group the scripts by the master that ran them
        const byNode = new Map<number, Set<string>>();
        const runs = log.flatMap((r) => r.kind === "script" ? [r] : []);
        for (const run of runs) {
          assert.ok(run.keys.length > 0, `${run.script} got its keys in KEYS`);
          const slots = new Set(run.keys.map(clusterSlot));
          assert.equal(slots.size, 1, `${run.script}: keys in one slot: ${run.keys.join(" ")}`);
          const port = cluster.ownerOf([...slots][0]!);
          if (!byNode.has(port)) byNode.set(port, new Set());
          byNode.get(port)!.add(run.script);
        }
        assert.deepEqual([...new Set(runs.map((r) => r.script))].sort(), ALL_SCRIPTS);
        const roomScripts = ALL_SCRIPTS.filter((name) => name !== scripts.WELCOME.name);
        for (const repo of repos) {
          const port = cluster.ownerOf(roomSlot(repo));
          const ran = byNode.get(port) ?? new Set();
          assert.deepEqual(
            roomScripts.filter((name) => !ran.has(name)),
            [],
            `every room script ran on master ${port} (room ${repo})`,
          );
        }
        const lobbyPort = cluster.ownerOf(clusterSlot(roomKeys(LOBBY).events));
        assert.ok(
          byNode.get(lobbyPort)?.has(scripts.WELCOME.name),
          "welcome ran on the lobby's master",
        );

        // the data really lives on the room's master and nowhere else
        for (const repo of repos) {
          const slot = roomSlot(repo);
          for (const node of cluster.nodes) {
            const count = await withRedis(
              node.url,
              (r) => r.call(["CLUSTER", "COUNTKEYSINSLOT", slot]),
            ) as number;
            if (node.port === cluster.ownerOf(slot)) assert.ok(count > 5, `${repo}: ${count} keys`);
            else assert.equal(count, 0, `${repo} has no keys on ${node.port}`);
          }
        }
      } finally {
        await Promise.all([alicePort.close(), bobPort.close()]);
      }
    });

    await t.step(
      "CLI and hook with AGENTROOM_REDIS_CLUSTER=1 through a seed that does not own the room",
      async () => {
        const repo = repoOn(cluster, cluster.nodes[1]!.port, "clcli");
        assert.notEqual(cluster.ownerOf(roomSlot(repo)), seed.port);
        const base = {
          AGENTROOM_REDIS_CLUSTER: "1",
          AGENTROOM_REDIS_URL: `redis://127.0.0.1:${seed.port}`,
          REPO_ID: repo,
          BRANCH_NAME: "main",
        };
        const as = (handle: string, session: string) => (args: string[]) =>
          runCli(args, {
            env: { ...base, AGENTROOM_AGENT: handle, AGENTROOM_SESSION_ID: session },
          });
        const alice = as("alice", "aaaa1111");
        const bob = as("bob", "bbbb2222");

        expectExit(await alice(["register", "BUILD", "build the thing"]), 0, "register");
        const task = JSON.parse(
          expectExit(await alice(["post", "BUILD", '{"target":"api"}', "--json"]), 0, "post task")
            .stdout,
        );
        const note = JSON.parse(
          expectExit(await alice(["post", "NOTE", "hello from the cluster", "--json"]), 0, "post")
            .stdout,
        );
        const tail = expectExit(await bob(["tail", "--json"]), 0, "tail");
        const events = tail.stdout.trim().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(events.map((e) => [e.id, e.type]), [[task.id, "BUILD"], [
          note.id,
          "NOTE",
        ]]);
        assert.equal(events[1].payload, "hello from the cluster");

        assert.match(
          expectExit(await bob(["claim", task.id]), 0, "claim").stdout,
          /^claimed task /,
        );
        assert.match(
          expectExit(await alice(["claim", task.id]), 3, "claim held").stderr,
          /claimed by bob-bbbb2222/,
        );
        assert.match(
          expectExit(
            await alice(["lease", "acquire", "path:src/db/", "--purpose", "migrate"]),
            0,
            "lease acquire",
          ).stdout,
          /^acquired lease [0-9a-f]{32} on path:src\/db /,
        );
        assert.match(
          expectExit(await bob(["guard", "path:src/db/schema.sql"]), 3, "guard").stderr,
          /^error: unsafe: path:src\/db\/schema.sql conflicts with path:src\/db, leased by alice-aaaa1111/,
        );

        // a hook of a new session: it joins (presence, lobby) and reports the room
        const session = crypto.randomUUID();
        const started = await runHook(
          "session-start",
          payload("claude_session_start", { session_id: session, cwd: Deno.cwd() }),
          { env: base },
        );
        const { context } = hookOutput(started, "SessionStart");
        assert.ok(context.includes(note.id), `the note is in the digest:\n${context}`);
        assert.ok(context.includes(`path:src/db`), `the lease is a blocker:\n${context}`);

        const who = JSON.parse(expectExit(await bob(["who", "--json", "--all"]), 0, "who").stdout);
        assert.deepEqual(
          who.agents.map((a: { agent_id: string }) => a.agent_id).sort(),
          ["alice-aaaa1111", "bob-bbbb2222", `cli-${sessionTokenOf(session)}`],
        );

        // the room's keys are on its master, not on the seed
        const slot = roomSlot(repo);
        const counts = await Promise.all(
          cluster.nodes.map((n) =>
            withRedis(n.url, (r) => r.call(["CLUSTER", "COUNTKEYSINSLOT", slot]))
          ),
        );
        assert.deepEqual(
          counts.map((c, i) => (c as number) > 0 ? cluster.nodes[i]!.port : 0).filter(Boolean),
          [cluster.ownerOf(slot)],
        );
      },
    );
  } finally {
    await cluster.stop();
  }
});

Deno.test("cluster mode: bad settings are usage errors (exit 2) and write nothing; hooks stay silent", async () => {
  const repo = uniqueRepo("clbad");
  const env = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_SESSION_ID: "cccc3333" };
  const cases: [Record<string, string>, RegExp][] = [
    [
      { AGENTROOM_REDIS_CLUSTER: "1", AGENTROOM_REDIS_URL: "redis://127.0.0.1:notaport" },
      /^error: .*port/,
    ],
    [
      { AGENTROOM_REDIS_CLUSTER: "maybe" },
      /^error: AGENTROOM_REDIS_CLUSTER must be 1, true or yes/,
    ],
    [
      { AGENTROOM_REDIS_CLUSTER: "yes", AGENTROOM_REDIS_URL: "redis://127.0.0.1:6379/3" },
      /^error: Redis Cluster has only database 0/,
    ],
    [
      { AGENTROOM_REDIS_CLUSTER: "true", AGENTROOM_TRANSPORT: "resp" },
      /^error: AGENTROOM_REDIS_CLUSTER needs the ioredis transport/,
    ],
  ];
  for (const [extra, pattern] of cases) {
    const what = JSON.stringify(extra);
    const r = await runCli(["post", "NOTE", "must not land"], { env: { ...env, ...extra } });
    expectExit(r, 2, what);
    assert.match(r.stderr, pattern, what);
    assert.equal(r.stdout, "", what);
    const hook = await runHook(
      "session-start",
      payload("claude_session_start", { session_id: crypto.randomUUID(), cwd: Deno.cwd() }),
      { env: { ...env, ...extra } },
    );
    assertSilent(hook, `hook with ${what}`);
  }
  assert.equal(await roomKeyCount(repo), 0, "nothing was written");
});
