import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { closedPort, roomKeyCount, uniqueRepo, withRedis } from "../support/redis.ts";
import { agent, inBatches, ok, runCli } from "../support/cli.ts";
import { until } from "../support/poll.ts";

/** Posts an event through the CLI and returns its id. */
async function post(who: ReturnType<typeof agent>, type: string, payload = ""): Promise<string> {
  const r = await who.run(["--json", "post", type, ...(payload === "" ? [] : [payload])]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).id;
}

Deno.test("register backfills earlier events; catalog lists types as text and JSON", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  assert.equal(ok(await alice.run(["catalog"]), "catalog").stdout, "(catalog is empty)\n");
  await post(alice, "FIX_TEST", '{"test":"a"}');
  await post(alice, "FIX_TEST", '{"test":"b"}');
  await post(alice, "NOTE", "not a task");
  const reg = ok(
    await alice.run([
      "register",
      "FIX_TEST",
      "make a failing test pass",
      "--produces",
      "a green test",
    ]),
    "register",
  );
  assert.equal(reg.stdout, "registered task type FIX_TEST (2 earlier events are now open tasks)\n");
  assert.equal(reg.stderr, "");
  const deploy = ok(
    await alice.run([
      "register",
      "DEPLOY",
      "deploy to staging",
      "--requires",
      "credentials",
      "--prereq",
      "BUILD_OK",
    ]),
    "register DEPLOY",
  );
  assert.equal(deploy.stdout, "registered task type DEPLOY\n");
  const json = ok(await alice.run(["register", "REVIEW", "review a PR", "--json"]), "--json");
  assert.deepEqual(JSON.parse(json.stdout), { type: "REVIEW", registered: true, backfilled: 0 });

  const text = ok(await alice.run(["catalog"]), "catalog");
  assert.equal(
    text.stdout,
    [
      "DEPLOY           deploy to staging",
      "                 requires=credentials prereq=BUILD_OK",
      "FIX_TEST         make a failing test pass",
      "                 produces=a green test",
      "REVIEW           review a PR",
      "",
    ].join("\n"),
  );
  const list = JSON.parse(ok(await alice.run(["catalog", "--json"]), "catalog --json").stdout);
  assert.deepEqual(list, {
    types: [
      {
        type: "DEPLOY",
        description: "deploy to staging",
        requires: "credentials",
        prereq: "BUILD_OK",
      },
      { type: "FIX_TEST", description: "make a failing test pass", produces: "a green test" },
      { type: "REVIEW", description: "review a PR" },
    ],
  });
  // overwriting keeps one entry and does not backfill again
  const again = ok(await alice.run(["register", "FIX_TEST", "fix it"]), "re-register");
  assert.equal(again.stdout, "registered task type FIX_TEST\n");
  const open = JSON.parse(ok(await alice.run(["open", "--json"]), "open").stdout);
  assert.deepEqual(open.tasks.map((t: { payload: unknown }) => t.payload), [{ test: "b" }, {
    test: "a",
  }]);
});

Deno.test("open, claim, task, done and release through the CLI with exit codes", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const carol = agent(repo, "cccc3333", "carol");
  assert.equal(ok(await alice.run(["open"]), "open").stdout, "(no open tasks)\n");
  ok(await alice.run(["register", "FIX", "fix a test"]), "register");
  const t1 = await post(alice, "FIX", '{"test":"one"}');
  const t2 = await post(alice, "FIX", "two");
  const t3 = await post(alice, "FIX");
  const note = await post(alice, "NOTE", "hello");

  const open = ok(await bob.run(["open"]), "open");
  assert.equal(
    open.stdout,
    `${t3}  FIX              \n${t2}  FIX              two\n${t1}  FIX              {"test":"one"}\n`,
  );
  const one = JSON.parse(ok(await bob.run(["open", "--count", "1", "--json"]), "open 1").stdout);
  assert.deepEqual(one.tasks.map((t: { id: string }) => t.id), [t3]);
  assert.equal(one.tasks[0].type, "FIX");
  assert.equal(one.tasks[0].agent_id, "alice-aaaa1111");

  // claim: alice wins, bob is told who holds it and for how long
  const won = ok(await alice.run(["claim", t1]), "claim");
  assert.equal(won.stdout, `claimed task ${t1} as alice-aaaa1111 (lease 5m0s)\n`);
  const lost = await bob.run(["claim", t1]);
  assert.equal(lost.code, 3);
  assert.match(
    lost.stderr,
    new RegExp(
      `^error: task ${t1} is claimed by alice-aaaa1111 for another (4m5\\ds|5m0s); pick another task\\n$`,
    ),
  );
  assert.equal(lost.stdout, "");
  const renewed = ok(await alice.run(["claim", t1, "--ttl", "30m", "--json"]), "renew");
  const r = JSON.parse(renewed.stdout);
  assert.equal(r.outcome, "renewed");
  assert.equal(r.owner, "alice-aaaa1111");
  assert.equal(r.task_id, t1);
  assert.equal(typeof r.expiresAt, "number");
  assert.ok(
    !ok(await bob.run(["open", "--json"]), "open").stdout.includes(t1),
    "claimed: not open",
  );

  // task: where it stands
  const state = ok(await bob.run(["task", t1]), "task");
  assert.match(
    state.stdout,
    new RegExp(`^${t1}  claimed by alice-aaaa1111 \\((29m5\\ds|30m0s) left\\)\\n$`),
  );
  const stateJson = JSON.parse(ok(await bob.run(["task", t1, "--json"]), "task --json").stdout);
  assert.equal(stateJson.state, "claimed");
  assert.equal(stateJson.owner, "alice-aaaa1111");
  assert.equal(stateJson.task.id, t1);
  assert.equal(ok(await bob.run(["task", t2]), "task open").stdout, `${t2}  open\n`);

  // who shows the claim load
  const who = ok(await carol.run(["who"]), "who");
  assert.match(who.stdout, /^alice-aaaa1111  \(1 claimed\)  \(expires in /m);

  // done by a non-owner: completes, warns naming the owner
  const taken = ok(await bob.run(["done", t1, "reviewed and fixed"]), "done");
  assert.equal(taken.stdout, `completed task ${t1}\n`);
  assert.equal(
    taken.stderr,
    `warning: task ${t1} was claimed by alice-aaaa1111; completed by bob-bbbb2222\n`,
  );
  assert.equal(
    ok(await carol.run(["task", t1]), "task").stdout,
    `${t1}  done  reviewed and fixed\n`,
  );
  const doneAgain = await carol.run(["claim", t1]);
  assert.equal(doneAgain.code, 3);
  assert.equal(doneAgain.stderr, `error: task ${t1} is already done; pick another task\n`);
  const completeAgain = await alice.run(["done", t1]);
  assert.equal(completeAgain.code, 3);
  assert.equal(completeAgain.stderr, `error: task ${t1} is already done\n`);

  // --strict: refused for a non-owner and for an unclaimed task
  ok(await alice.run(["claim", t2]), "claim t2");
  const strict = await bob.run(["done", t2, "--strict"]);
  assert.equal(strict.code, 3);
  assert.equal(
    strict.stderr,
    `error: task ${t2} is claimed by alice-aaaa1111, not you (--strict)\n`,
  );
  const unclaimed = await bob.run(["done", t3, "--strict"]);
  assert.equal(unclaimed.code, 3);
  assert.match(unclaimed.stderr, /is not claimed; claim it first \(--strict\)\n$/);

  // release: owner only
  const notYours = await bob.run(["release", t2]);
  assert.equal(notYours.code, 3);
  assert.equal(notYours.stderr, `error: task ${t2} is claimed by alice-aaaa1111, not you\n`);
  assert.equal(ok(await alice.run(["release", t2]), "release").stdout, `released task ${t2}\n`);
  const notHeld = await alice.run(["release", t2]);
  assert.equal(notHeld.code, 1);
  assert.equal(notHeld.stderr, `error: task ${t2} is not claimed\n`);

  // the owner completing with --strict gets no warning
  ok(await carol.run(["claim", t2]), "claim t2");
  const own = ok(await carol.run(["done", t2, '{"pr":42}', "--strict", "--json"]), "strict done");
  assert.equal(own.stderr, "");
  assert.deepEqual(JSON.parse(own.stdout).previousOwner, "carol-cccc3333");
  assert.deepEqual(JSON.parse(ok(await carol.run(["task", t2, "--json"]), "task").stdout).result, {
    pr: 42,
  });

  // unknown id and non-task events exit 1
  for (const cmd of ["claim", "done", "task"]) {
    const unknown = await carol.run([cmd, "1-0"]);
    assert.equal(unknown.code, 1, cmd);
    assert.equal(unknown.stderr, `error: task 1-0 not found in room ${repo}/main\n`, cmd);
  }
  const notTask = await carol.run(["claim", note]);
  assert.equal(notTask.code, 1);
  assert.equal(notTask.stderr, `error: event ${note} is a NOTE, not a registered task type\n`);
  assert.equal(ok(await carol.run(["open"]), "open").stdout, `${t3}  FIX              \n`);
});

Deno.test("claim --prereq gate exits 3 until the prerequisite event appears; --force skips it", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["register", "DEPLOY", "deploy", "--prereq", "BUILD_OK"]), "register");
  const gated = await post(alice, "DEPLOY");
  const forced = await post(alice, "DEPLOY");
  const waits = await alice.run(["claim", gated]);
  assert.equal(waits.code, 3);
  assert.equal(
    waits.stderr,
    `error: task ${gated} waits for its prerequisite: no BUILD_OK event yet (use --force to override)\n`,
  );
  ok(await alice.run(["claim", forced, "--force"]), "claim --force");
  await post(alice, "BUILD_OK");
  ok(await alice.run(["claim", gated]), "claim after BUILD_OK");
});

Deno.test("a late owner whose lapsed lease was re-claimed: done warns naming the new holder, --strict exits 3", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await alice.run(["register", "FIX", "fix"]), "register");
  const loose = await post(alice, "FIX");
  const strict = await post(alice, "FIX");
  ok(await alice.run(["claim", loose, "--ttl", "200ms"]), "claim");
  ok(await alice.run(["claim", strict, "--ttl", "200ms"]), "claim");
  // wait for both leases to lapse (polling the owner keys, with a deadline)
  const keys = roomKeys({ repo, branch: "main" });
  await withRedis(async (redis) => {
    await until(
      "both leases to lapse",
      async () => await redis.call(["EXISTS", keys.taskOwner(loose), keys.taskOwner(strict)]) === 0,
    );
  });
  ok(await bob.run(["claim", loose]), "bob claims");
  ok(await bob.run(["claim", strict]), "bob claims");
  const late = ok(await alice.run(["done", loose, "finished anyway"]), "late done");
  assert.equal(
    late.stderr,
    `warning: task ${loose} was claimed by bob-bbbb2222; completed by alice-aaaa1111\n`,
  );
  const refused = await alice.run(["done", strict, "--strict"]);
  assert.equal(refused.code, 3);
  assert.equal(
    refused.stderr,
    `error: task ${strict} is claimed by bob-bbbb2222, not you (--strict)\n`,
  );
  assert.match(ok(await alice.run(["task", strict]), "task").stdout, /claimed by bob-bbbb2222/);
});

Deno.test("two agents racing to claim one task in separate processes: exactly one wins", async () => {
  const repo = uniqueRepo();
  const setup = agent(repo, "ssss0000", "setup");
  ok(await setup.run(["register", "FIX", "fix"]), "register");
  const id = await post(setup, "FIX");
  const racers = [agent(repo, "aaaa1111", "alice"), agent(repo, "bbbb2222", "bob")];
  const results = await Promise.all(racers.map((a) => a.spawn(["claim", id])));
  assert.deepEqual(results.map((r) => r.code).sort(), [0, 3], results.map((r) => r.stderr).join());
  const winner = results[0]!.code === 0 ? "alice-aaaa1111" : "bob-bbbb2222";
  const loser = results.find((r) => r.code === 3)!;
  assert.match(loser.stderr, new RegExp(`^error: task ${id} is claimed by ${winner} for another `));
  const state = JSON.parse(ok(await setup.run(["task", id, "--json"]), "task").stdout);
  assert.equal(state.owner, winner);
});

Deno.test("task commands reject bad input with exit 2 before touching Redis", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111", "alice");
  const cases: [string[], RegExp][] = [
    [["register"], /^error: missing argument: register takes <type> <description>/],
    [["register", "FIX"], /^error: missing argument: register takes <type> <description>/],
    [["register", "FIX", "d", "extra"], /^error: too many arguments: register takes/],
    [["register", "FIX", "d", "--prereq"], /^error: flag --prereq needs a value/],
    [["catalog", "extra"], /^error: too many arguments: catalog takes no arguments/],
    [["open", "extra"], /^error: too many arguments: open takes no arguments/],
    [["open", "--count", "0"], /^error: --count must be between 1 and 1000, got 0;/],
    [["open", "--count", "1001"], /^error: --count must be between 1 and 1000, got 1001;/],
    [["open", "--count", "abc"], /^error: --count must be a non-negative whole number, got "abc";/],
    [["open", "-n", "1.5"], /^error: --count must be a non-negative whole number/],
    [["claim"], /^error: missing argument: claim takes <task-id>/],
    [["claim", "1-0", "extra"], /^error: too many arguments: claim takes <task-id>/],
    [["claim", "abc"], /^error: task id must be a stream id like 1763700000000-0, got "abc";/],
    [
      ["claim", "1-0", "--ttl", "0"],
      /^error: --ttl must be a duration between 1ms and 24h, got "0";/,
    ],
    [["claim", "1-0", "--ttl", "0s"], /^error: --ttl must be a duration between 1ms and 24h/],
    [["claim", "1-0", "--ttl", "-5m"], /^error: flag --ttl got a value starting with '-'/],
    [
      ["claim", "1-0", "--ttl=-5m"],
      /^error: --ttl must be a duration between 1ms and 24h, got "-5m"/,
    ],
    [
      ["claim", "1-0", "--ttl", "25h"],
      /^error: --ttl must be a duration between 1ms and 24h, got "25h"/,
    ],
    [["claim", "1-0", "--ttl", "24h1ms"], /^error: --ttl must be a duration between 1ms and 24h/],
    [
      ["claim", "1-0", "--ttl", "soon"],
      /^error: --ttl must be a duration between 1ms and 24h, got "soon"/,
    ],
    [["claim", "1-0", "--ttl"], /^error: flag --ttl needs a value/],
    [["claim", "1-0", "--force=yes"], /^error: /],
    [["done"], /^error: missing argument: done takes <task-id> \[result\]/],
    [
      ["done", "1-0", "result", "extra"],
      /^error: too many arguments: done takes <task-id> \[result\]/,
    ],
    [["done", "1-0-0"], /^error: task id must be a stream id/],
    [["release"], /^error: missing argument: release takes <task-id>/],
    [["release", "1-0", "extra"], /^error: too many arguments: release takes <task-id>/],
    [["release", "x"], /^error: task id must be a stream id/],
    [["task"], /^error: missing argument: task takes <task-id>/],
    [["task", "1-0", "extra"], /^error: too many arguments: task takes <task-id>/],
    [["task", "not-an-id"], /^error: task id must be a stream id/],
  ];
  const down = `redis://127.0.0.1:${closedPort()}`;
  const results = await inBatches(cases.flatMap(([args]) => [
    () => a.run(args),
    // the same input with Redis down is still exit 2: rejected before connecting
    () => a.run(args, { env: { AGENTROOM_REDIS_URL: down }, deadlineMs: 5_000 }),
  ]));
  cases.forEach(([args, pattern], i) => {
    for (const r of [results[2 * i]!, results[2 * i + 1]!]) {
      const what = args.join(" ");
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, pattern, what);
      assert.match(r.stderr, new RegExp(`; run 'agentroom ${args[0]} --help'\\n$`), what);
      assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one line for ${what}`);
      assert.equal(r.stdout, "", what);
    }
  });
  assert.equal(await roomKeyCount(repo), 0, "nothing was written to Redis");
});

Deno.test("task commands with Redis unreachable exit 1 naming the address", async () => {
  const url = `redis://127.0.0.1:${closedPort()}`;
  const commands = [
    ["register", "FIX", "fix"],
    ["catalog"],
    ["open"],
    ["claim", "1-0"],
    ["claim", "1-0", "--ttl", "1h", "--force"],
    ["done", "1-0", "result"],
    ["done", "1-0", "--strict"],
    ["release", "1-0"],
    ["task", "1-0"],
  ];
  const results = await inBatches(commands.map((args) => () =>
    runCli(args, {
      env: { AGENTROOM_REDIS_URL: url, REPO_ID: "x", AGENTROOM_SESSION_ID: "s" },
      deadlineMs: 5_000,
    })
  ));
  results.forEach((r, i) => {
    const what = commands[i]!.join(" ");
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^error: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*start redis-server/,
      what,
    );
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, what);
    assert.equal(r.stdout, "", what);
  });
});
