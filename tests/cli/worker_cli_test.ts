import assert from "node:assert/strict";
import { join } from "node:path";
import { roomConfig } from "../../src/config.ts";
import { listDeadLetters, listGroups } from "../../src/groups.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { agent, baseEnv, cliArgs, ok } from "../support/cli.ts";
import { until } from "../support/poll.ts";
import { aofServer } from "../support/aof.ts";
import { closedPort, roomKeyCount, shared, uniqueRepo, withRedis } from "../support/redis.ts";

const producer = resolveIdentity("producer", "p1");

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

async function pending(room: Room, group: string): Promise<number> {
  const reply = await room.redis.call(["XPENDING", room.keys.events, group]) as unknown[];
  return Number(reply[0]);
}

async function groupExists(room: Room, group: string): Promise<boolean> {
  try {
    const groups = await room.redis.call(["XINFO", "GROUPS", room.keys.events]) as unknown[][];
    return groups.some((g) => g[1] === group);
  } catch {
    return false;
  }
}

Deno.test("worker --: runs the command per matching event with the event on stdin and in the environment", async () => {
  const repo = uniqueRepo();
  const dir = await Deno.makeTempDir();
  const a = agent(repo, "w1");
  const script = `cat > "${dir}/$AGENTROOM_EVENT_ID.json"; ` +
    `echo "$AGENTROOM_EVENT_TYPE $AGENTROOM_EVENT_PAYLOAD $AGENTROOM_WORKER_GROUP $REPO_ID" >> "${dir}/log"`;
  const running = a.start([
    "worker",
    "--group",
    "echoer",
    "--interest",
    "JOB,OTHER",
    "--",
    "sh",
    "-c",
    script,
  ]);
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    await until("group created", () => groupExists(room, "echoer"));
    const job = await room.publish({ type: "JOB", agent: producer, payload: { n: 1 } });
    await room.publish({ type: "IGNORED", agent: producer, payload: null });
    await until("ran once", async () => (await lines(`${dir}/log`)).length === 1);
    await until("all acked", async () => await pending(room, "echoer") === 0);
    running.interrupt();
    const r = await running.done();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await lines(`${dir}/log`), [`JOB {"n":1} echoer ${repo}`]);
    const stdin = JSON.parse(await Deno.readTextFile(`${dir}/${job.id}.json`));
    assert.equal(stdin.id, job.id);
    assert.deepEqual(stdin.payload, { n: 1 });
    assert.match(r.stderr, /^worker: echoer\/\S+ on .* for JOB,OTHER; Ctrl-C stops$/m);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("worker --: a failing command is retried, then dead-lettered; dlq list, retry, drop", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "w2");
  const running = a.start([
    "worker",
    "--group",
    "failer",
    "--interest",
    "*",
    "--max-attempts",
    "2",
    "--min-idle",
    "50ms",
    "--",
    "sh",
    "-c",
    "exit 3",
  ]);
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    await until("group created", () => groupExists(room, "failer"));
    const job = await room.publish({ type: "JOB", agent: producer, payload: "x" });
    await until("dead-lettered", async () => (await listDeadLetters(room, "failer")).length === 1);
    // Its ENGINE_RUNTIME_ERROR events reach it too (acknowledged unexecuted): let them settle.
    await until("settled", async () => {
      const [group] = await listGroups(room);
      return group?.pending === 0 && group.lag === 0;
    });
    running.interrupt();
    const r = await running.done();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`execute ${job.id}: sh exited with status 3`));
    assert.match(r.stderr, /moved to the dead-letter stream/);

    const list = ok(await a.run(["dlq", "list", "--group", "failer", "--json"]), "dlq list");
    const [letter] = list.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(letter.event.id, job.id);
    assert.equal(letter.attempts, 2);
    assert.match(letter.error, /exited with status 3/);
    const human = ok(await a.run(["dlq", "list", "--group", "failer"]), "dlq list");
    assert.match(human.stdout, /JOB .* 2 attempt\(s\)\s+sh exited with status 3/);
    const groups = ok(await a.run(["groups"]), "groups");
    assert.match(groups.stdout, /^failer {2}lag 0 {2}pending 0 {2}dead 1/m);

    const retried = ok(await a.run(["dlq", "retry", "--group", "failer", letter.dead_id]), "retry");
    const newId = retried.stdout.match(/^retried \S+ as (\S+)$/m)?.[1];
    assert.equal((await room.eventById(newId!))?.type, "JOB");
    const again = await a.run(["dlq", "retry", "--group", "failer", letter.dead_id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: 1 dead letter\(s\) not found in group failer/);

    await redis.call(["XADD", room.keys.deadLetters("failer"), "*", "type", "X", "dead_id", "1-0"]);
    const dropped = ok(await a.run(["dlq", "drop", "--group", "failer", "--all"]), "drop");
    assert.match(dropped.stdout, /^dropped /);
    assert.deepEqual(await listDeadLetters(room, "failer"), []);
  });
});

Deno.test("worker --: a hanging command is stopped by --timeout; a command that reads no stdin is fine", async () => {
  const repo = uniqueRepo();
  const dir = await Deno.makeTempDir();
  const a = agent(repo, "w3");
  const hang = a.start([
    "worker",
    "--group",
    "hanger",
    "--interest",
    "SLOW",
    "--timeout",
    "200ms",
    "--max-attempts",
    "1",
    "--",
    "sleep",
    "30",
  ]);
  const quiet = a.start([
    "worker",
    "--group",
    "quiet",
    "--interest",
    "SLOW",
    "--",
    "sh",
    "-c",
    `echo ran >> "${dir}/quiet"`,
  ]);
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    await until(
      "groups",
      async () => await groupExists(room, "hanger") && groupExists(room, "quiet"),
    );
    // A large payload: a command that never reads stdin must not wedge the write.
    await room.publish({ type: "SLOW", agent: producer, payload: "y".repeat(15_000) });
    await until("timed out", async () => (await listDeadLetters(room, "hanger")).length === 1);
    await until(
      "quiet acked",
      async () => await pending(room, "quiet") === 0 && (await lines(`${dir}/quiet`)).length === 1,
    );
    hang.interrupt();
    quiet.interrupt();
    const [h, q] = [await hang.done(), await quiet.done()];
    assert.equal(h.code, 0, h.stderr);
    assert.equal(q.code, 0, q.stderr);
    assert.match(h.stderr, /sleep was stopped: timed out/);
    assert.deepEqual(await listDeadLetters(room, "quiet"), []);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("worker processes: kill -9 mid-batch, another instance reclaims; every event runs, none lost", async () => {
  const repo = uniqueRepo();
  const dir = await Deno.makeTempDir();
  const log = join(dir, "log");
  const env = { ...baseEnv(), REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_SESSION_ID: "k1" };
  const spawn = (consumer: string) =>
    new Deno.Command(Deno.execPath(), {
      args: cliArgs([
        "worker",
        "--group",
        "batch",
        "--interest",
        "JOB",
        "--concurrency",
        "4",
        "--min-idle",
        "500ms",
        "--consumer",
        consumer,
        "--",
        "sh",
        "-c",
        `echo "$AGENTROOM_EVENT_ID" >> "${log}"; sleep 0.1`,
      ]),
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).spawn();
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    const first = spawn("first");
    await until("group created", () => groupExists(room, "batch"), 20_000);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push((await room.publish({ type: "JOB", agent: producer, payload: i })).id);
    }
    await until("first is mid-batch", async () => (await lines(log)).length >= 4, 20_000);
    first.kill("SIGKILL");
    await first.status;
    const leftPending = await pending(room, "batch");
    assert.ok(leftPending > 0, "the killed instance left events pending");
    const second = spawn("second");
    await until("every event acked", async () => {
      const [group] = await listGroups(room);
      return group?.pending === 0 && group.lag === 0;
    }, 30_000);
    const ran = new Set(await lines(log));
    for (const id of ids) assert.ok(ran.has(id), `event ${id} never ran`);
    second.kill("SIGTERM");
    const status = await second.status;
    const stderr = await new Response(second.stderr).text();
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /reclaimed \d+ idle event/);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("worker, dlq, groups bad input: one error line, documented exit code, nothing written", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "bad1");
  const cases: [string[], number, RegExp][] = [
    [["worker", "--interest", "X", "--", "true"], 2, /^error: worker needs --group NAME/],
    [["worker", "--group", "a:b", "--interest", "X", "--", "true"], 2, /--group must be/],
    [["worker", "--group", "g", "--", "true"], 2, /worker needs --interest TYPE/],
    [
      ["worker", "--group", "g", "--interest", "has space", "--", "true"],
      2,
      /--interest: .*whitespace/,
    ],
    [["worker", "--group", "g", "--interest", "X"], 2, /worker needs a command after --/],
    [
      ["worker", "--group", "g", "--interest", "X", "--concurrency", "0", "--", "true"],
      2,
      /--concurrency must be between 1 and 64/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--concurrency", "x", "--", "true"],
      2,
      /--concurrency must be a non-negative whole number/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--timeout", "soon", "--", "true"],
      2,
      /--timeout must be a duration/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--min-idle", "0s", "--", "true"],
      2,
      /--min-idle must be a duration/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--max-attempts", "0", "--", "true"],
      2,
      /--max-attempts must be between 1 and 100/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--consumer", "a b", "--", "true"],
      2,
      /--consumer must be/,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--", "no-such-cmd-xyz"],
      1,
      /^error: cannot run "no-such-cmd-xyz": not found on PATH$/m,
    ],
    [
      ["worker", "--group", "g", "--interest", "X", "--", "./nope.sh"],
      1,
      /cannot run "\.\/nope\.sh": no such executable file/,
    ],
    [["dlq"], 2, /^error: missing argument: dlq takes/],
    [
      ["dlq", "peek", "--group", "g"],
      2,
      /unknown dlq subcommand "peek"; expected list\|retry\|drop/,
    ],
    [["dlq", "list"], 2, /dlq needs --group NAME/],
    [["dlq", "list", "--group", "g", "1-0"], 2, /too many arguments: 'dlq list'/],
    [["dlq", "list", "--group", "g", "--all"], 2, /--all does not apply to 'dlq list'/],
    [["dlq", "retry", "--group", "g"], 2, /dlq retry takes dead-letter ids or --all/],
    [["dlq", "drop", "--group", "g", "--all", "1-0"], 2, /dlq drop takes dead-letter ids or --all/],
    [["dlq", "drop", "--group", "g", "garbage"], 2, /Invalid event id "garbage"/],
    [
      ["dlq", "drop", "--group", "g", "--count", "3", "1-0"],
      2,
      /--count does not apply to 'dlq drop'/,
    ],
    [["groups", "extra"], 2, /too many arguments: groups takes no arguments/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await a.run(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stderr.split("\n").filter((l) => l !== "").length, 1, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.equal(await roomKeyCount(repo), 0, "nothing written");
  assert.ok(shared.url);
});

Deno.test("worker process: outlives a Redis restart (AOF) and goes on with new events", async () => {
  const dir = await Deno.makeTempDir();
  const port = closedPort();
  let server = await aofServer(dir, port);
  const log = join(dir, "ran");
  const repo = uniqueRepo();
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs([
      "worker",
      "--group",
      "survivor",
      "--interest",
      "JOB",
      "--consumer",
      "s1",
      "--",
      "sh",
      "-c",
      `echo "$AGENTROOM_EVENT_PAYLOAD" >> "${log}"`,
    ]),
    env: {
      ...baseEnv(),
      AGENTROOM_REDIS_URL: server.url,
      REPO_ID: repo,
      BRANCH_NAME: "main",
      AGENTROOM_SESSION_ID: "r1",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  try {
    const publish = (payload: string) =>
      withRedis(server.url, async (redis) => {
        const room = new Room(redis, roomConfig({ repo, branch: "main" }));
        await room.publish({ type: "JOB", agent: producer, payload });
      });
    await until("group", () =>
      withRedis(server.url, async (r) => {
        const room = new Room(r, roomConfig({ repo, branch: "main" }));
        return await groupExists(room, "survivor");
      }), 20_000);
    await publish("before");
    await until("ran before", async () => (await lines(log)).includes('"before"'));
    server.child.kill("SIGKILL");
    await server.child.status;
    server = await aofServer(dir, port);
    await publish("after");
    await until("ran after", async () => (await lines(log)).includes('"after"'), 20_000);
    child.kill("SIGTERM");
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.code, 0, stderr);
    assert.deepEqual(await lines(log), ['"before"', '"after"']);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    server.child.kill("SIGTERM");
    await server.child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
