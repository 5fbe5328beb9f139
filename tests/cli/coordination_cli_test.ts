import assert from "node:assert/strict";
import { closedPort, roomKeyCount, uniqueRepo } from "../support/redis.ts";
import { agent, type CliResult, inBatches, ok, runCli } from "../support/cli.ts";

const HEX = "0123456789abcdef0123456789abcdef";

function fails(r: CliResult, code: number, pattern: RegExp, what: string): CliResult {
  assert.equal(r.code, code, `${what}: exit ${r.code}, ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one error line: ${what}`);
  return r;
}

Deno.test("lease and guard through the CLI: conflicts exit 3 naming the holder, then clear", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  assert.equal(ok(await alice.run(["lease", "list"]), "list").stdout, "(no live leases)\n");
  const got = ok(
    await alice.run(["lease", "acquire", "path:src/db/", "db:main", "--purpose", "migrate"]),
    "acquire",
  );
  const id = got.stdout.match(
    /^acquired lease ([0-9a-f]{32}) on db:main, path:src\/db for 15m0s\n$/,
  )
    ?.[1];
  assert.ok(id, got.stdout);

  const lost = fails(
    await bob.run(["lease", "acquire", "path:src/db/schema.sql", "--purpose", "edit"]),
    3,
    new RegExp(
      `^error: cannot acquire lease: path:src/db/schema.sql conflicts with path:src/db, leased by ` +
        `alice-aaaa1111 \\(lease ${id}, 1[45]m\\d+s left\\); wait for it to be released or ask ` +
        `alice-aaaa1111 to release it\\n$`,
    ),
    "bob acquire",
  );
  assert.equal(lost.stdout, "");
  fails(
    await bob.run(["guard", "path:src"]),
    3,
    /^error: unsafe: path:src conflicts with path:src\/db, leased by alice-aaaa1111/,
    "bob guard",
  );
  const json = fails(
    await bob.run(["guard", "path:src/db/x", "--json"]),
    3,
    /^error: unsafe/,
    "bob guard --json",
  );
  const verdict = JSON.parse(json.stdout);
  assert.equal(verdict.safe, false);
  assert.equal(verdict.reason, "conflict");
  assert.equal(verdict.conflict.leaseId, id);
  assert.equal(verdict.conflict.owner, "alice-aaaa1111");
  assert.match(verdict.error, /^unsafe: path:src\/db\/x conflicts/);
  // the owner's own lease is no conflict for the owner
  assert.equal(ok(await alice.run(["guard", "path:src/db/x"]), "own guard").stdout, "safe\n");
  const held = JSON.parse(
    ok(await alice.run(["guard", "db:main", "--lease", id!, "--require-held", "--json"]), "held")
      .stdout,
  );
  assert.deepEqual(held.held, ["db:main"]);
  fails(
    await alice.run(["guard", "path:docs", "--require-held"]),
    3,
    /^error: unsafe: you hold no lease covering path:docs/,
    "not held",
  );

  const list = ok(await bob.run(["lease", "list"]), "list").stdout;
  assert.match(
    list,
    new RegExp(`^${id}  alice-aaaa1111  db:main, path:src/db  \\(\\d+m\\d+s left\\)  migrate\\n$`),
  );
  const listed = JSON.parse(ok(await bob.run(["lease", "list", "--json"]), "list --json").stdout);
  assert.deepEqual(listed.leases.map((l: { id: string }) => l.id), [id]);

  fails(
    await bob.run(["lease", "renew", id!]),
    1,
    /^error: lease \S+ belongs to alice-aaaa1111, not bob-bbbb2222; only its owner can renew it\n$/,
    "bob renew",
  );
  fails(await bob.run(["lease", "release", id!]), 1, /belongs to alice-aaaa1111/, "bob release");
  const renewed = JSON.parse(
    ok(await alice.run(["lease", "renew", id!, "--ttl", "1h", "--json"]), "renew").stdout,
  );
  assert.equal(renewed.expires_at - renewed.created_at >= 3_600_000, true);
  fails(
    await alice.run(["lease", "renew", HEX]),
    1,
    /^error: lease \S+ expired or was released; acquire/,
    "renew missing",
  );
  assert.equal(
    ok(await alice.run(["lease", "release", id!]), "release").stdout,
    `released lease ${id}\n`,
  );
  assert.equal(
    ok(await alice.run(["lease", "release", id!]), "release again").stdout,
    `lease ${id} was already released or expired\n`,
  );
  assert.equal(ok(await bob.run(["guard", "path:src"]), "bob guard after").stdout, "safe\n");
  const events = (await alice.run(["tail", "--json"])).stdout.trim().split("\n").map((l) =>
    JSON.parse(l).type
  );
  assert.deepEqual(events, ["LEASE_ACQUIRED", "LEASE_RENEWED", "LEASE_RELEASED"]);
});

Deno.test("windows through the CLI: lease holders must ack and release before activation", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const carol = agent(repo, "cccc3333", "carol");
  const lease = JSON.parse(
    ok(
      await bob.run(["lease", "acquire", "path:src/db/seed.sql", "--purpose", "seed", "--json"]),
      "lease",
    )
      .stdout,
  );
  ok(await carol.run(["post", "HELLO", "hi"]), "carol is present");
  const requested = ok(
    await alice.run([
      "window",
      "request",
      "path:src/db",
      "--purpose",
      "migrate",
      "--require",
      "carol",
    ]),
    "request",
  );
  const id = requested.stdout.match(
    /^window ([0-9a-f]{32}) is pending: waiting for bob-bbbb2222, carol-cccc3333 to acknowledge/,
  )?.[1];
  assert.ok(id, requested.stdout);
  assert.match(requested.stdout, /bob-bbbb2222 must also release overlapping leases/);
  const notice = JSON.parse(ok(await bob.run(["inbox", "--json"]), "bob inbox").stdout.trim());
  assert.equal(notice.type, "WINDOW_ACK_REQUIRED");
  assert.equal(notice.payload.window.id, id);

  fails(
    await alice.run(["window", "activate", id!]),
    3,
    /acknowledgments outstanding from bob-bbbb2222, carol-cccc3333/,
    "early",
  );
  fails(
    await bob.run(["lease", "renew", lease.id]),
    3,
    new RegExp(`is inside the pending quiet window ${id} requested by alice-aaaa1111`),
    "renew blocked",
  );
  fails(
    await carol.run(["lease", "acquire", "path:src", "--purpose", "x"]),
    3,
    /conflicts with/,
    "blocked lease",
  );
  assert.match(
    ok(await carol.run(["window", "ack", id!]), "carol ack").stdout,
    /^acknowledged window \S+ of alice-aaaa1111\n$/,
  );
  assert.match(
    ok(await bob.run(["window", "ack", id!]), "bob ack").stdout,
    /release your overlapping leases/,
  );
  fails(await alice.run(["window", "ack", id!]), 1, /does not require alice-aaaa1111/, "owner ack");
  fails(
    await bob.run(["window", "activate", id!]),
    1,
    /belongs to alice-aaaa1111, not bob-bbbb2222/,
    "not owner",
  );
  fails(
    await alice.run(["window", "activate", id!]),
    3,
    new RegExp(`leased by bob-bbbb2222 \\(lease ${lease.id}`),
    "blocking lease",
  );
  ok(await bob.run(["lease", "release", lease.id]), "bob releases");
  assert.match(
    ok(await alice.run(["window", "activate", id!]), "activate").stdout,
    /^window \S+ is active for 5m0s/,
  );
  fails(
    await bob.run(["guard", "path:src/db/seed.sql"]),
    3,
    /in the active quiet window/,
    "guard in window",
  );
  assert.equal(
    ok(await alice.run(["guard", "path:src/db/seed.sql", "--require-held"]), "own").stdout,
    "safe\n",
  );

  const one = JSON.parse(
    ok(await bob.run(["window", "status", id!, "--json"]), "status id").stdout,
  );
  assert.equal(one.state, "active");
  assert.deepEqual(one.acknowledged, ["bob-bbbb2222", "carol-cccc3333"]);
  const text = ok(await bob.run(["window", "status"]), "status").stdout;
  assert.match(
    text,
    new RegExp(`^${id}  active    alice-aaaa1111  path:src/db  \\(\\d+m\\d+s left\\)  migrate\\n$`),
  );
  fails(
    await alice.run(["window", "cancel", id!]),
    1,
    /is active, not pending; release an active window instead/,
    "cancel active",
  );
  assert.equal(
    ok(await alice.run(["window", "release", id!]), "release").stdout,
    `released window ${id}\n`,
  );
  assert.equal(
    ok(await alice.run(["window", "release", id!]), "again").stdout,
    `already released window ${id}\n`,
  );
  fails(await alice.run(["window", "status", HEX]), 1, /^error: window \S+ not found/, "unknown");

  const quick = ok(
    await carol.run(["window", "request", "db:main", "--purpose", "reindex", "--ttl", "10m"]),
    "quick",
  );
  assert.match(
    quick.stdout,
    /^window [0-9a-f]{32} is active on db:main for 10m0s; release it with/,
  );
  const types = (await alice.run(["tail", "--json", "--limit", "2"])).stdout.trim().split("\n").map(
    (l) => JSON.parse(l).type,
  );
  assert.deepEqual(types, ["WINDOW_REQUESTED", "WINDOW_ACTIVATED"]);
});

Deno.test("work and status through the CLI: --to resolves live agents, handoffs land in the inbox", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const bob2 = agent(repo, "bbbb9999", "bob");
  const empty = JSON.parse(ok(await alice.run(["status", "--json"]), "empty status").stdout);
  assert.deepEqual(
    [empty.leases, empty.windows, empty.work, empty.open_tasks, empty.presence],
    [[], [], [], [], []],
  );
  assert.equal(
    ok(await alice.run(["status"]), "empty text").stdout,
    "leases: none\nwindows: none\nwork: none\nopen tasks: none\npresence: none\n",
  );
  ok(await bob.run(["post", "HELLO", "hi"]), "bob is present");
  const handoff = ok(
    await alice.run([
      "work",
      "handoff",
      "--scope",
      "auth",
      "--summary",
      "tests left",
      "--to",
      "bob",
      "--data",
      '{"pr":42}',
    ]),
    "handoff",
  );
  assert.equal(handoff.stdout, "work handoff: auth: tests left (delivered to bob-bbbb2222)\n");
  const inbox = JSON.parse(ok(await bob.run(["inbox", "--json"]), "inbox").stdout.trim());
  assert.equal(inbox.type, "WORK_STATUS");
  assert.deepEqual(inbox.payload.data, { pr: 42 });
  ok(await bob2.run(["post", "HELLO", "me too"]), "second bob");
  fails(
    await alice.run(["work", "blocked", "--scope", "db", "--summary", "s", "--to", "bob"]),
    1,
    /^error: --to "bob" is ambiguous; candidates: bob-bbbb2222, bob-bbbb9999\n$/,
    "ambiguous",
  );
  fails(
    await alice.run(["work", "blocked", "--scope", "db", "--summary", "s", "--to", "zed"]),
    1,
    /does not match a live agent/,
    "no match",
  );
  const started = JSON.parse(
    ok(
      await alice.run(["work", "started", "--scope", "db", "--summary", "migrating", "--json"]),
      "json",
    ).stdout,
  );
  assert.equal(started.state, "started");
  ok(await alice.run(["lease", "acquire", "db:main", "--purpose", "migrate"]), "lease");
  const s = JSON.parse(ok(await bob.run(["status", "--json"]), "status").stdout);
  assert.equal(s.lease_count, 1);
  assert.deepEqual(s.work.map((w: { scope: string }) => w.scope).sort(), ["auth", "db"]);
  assert.deepEqual(s.presence.map((p: { identity: { agent_id: string } }) => p.identity.agent_id), [
    "alice-aaaa1111",
    "bob-bbbb2222",
    "bob-bbbb9999",
  ]);
  const text = ok(await bob.run(["status"]), "status text").stdout;
  assert.match(text, /^leases \(1\):\n  [0-9a-f]{32}  alice-aaaa1111  db:main  \(/);
  assert.match(text, /\nwork \(2\):\n/);
  assert.match(text, /  alice-aaaa1111  handoff  auth: tests left  -> bob-bbbb2222\n/);
  ok(await alice.run(["work", "completed", "--scope", "auth", "--summary", "merged"]), "completed");
  const after = JSON.parse(ok(await bob.run(["status", "--json"]), "after").stdout);
  assert.deepEqual(after.work.map((w: { scope: string }) => w.scope), ["db"]);
});

Deno.test("coordination commands reject bad input with exit 2 before touching Redis", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111", "alice");
  const cases: [string[], RegExp][] = [
    [["lease"], /^error: missing argument: lease takes acquire\|renew\|release\|list/],
    [["lease", "grab", "db:x"], /^error: unknown lease subcommand "grab"; expected acquire\|renew/],
    [
      ["lease", "acquire", "--purpose", "x"],
      /^error: missing argument: 'lease acquire' takes <resource>/,
    ],
    [["lease", "acquire", "db:x"], /^error: --purpose is required/],
    [["lease", "acquire", "db:x", "--purpose", " "], /^error: --purpose is required/],
    [
      ["lease", "acquire", "src/db", "--purpose", "x"],
      /^error: Invalid resource "src\/db": expected <kind>:<name>/,
    ],
    [["lease", "acquire", "path:/etc", "--purpose", "x"], /relative to the repository root/],
    [["lease", "acquire", "path:a/../b", "--purpose", "x"], /\.\. segments/],
    [["lease", "acquire", "path:a\\b", "--purpose", "x"], /separator/],
    [["lease", "acquire", "path:a//b", "--purpose", "x"], /empty segment/],
    [["lease", "acquire", "DB:x", "--purpose", "x"], /kind "DB"/],
    [
      ["lease", "acquire", "db:x", "--purpose", "x", "--ttl", "0"],
      /^error: --ttl must be a duration between 1ms and 24h/,
    ],
    [["lease", "acquire", "db:x", "--purpose", "x", "--ttl", "25h"], /got "25h"/],
    [["lease", "acquire", "db:x", "--purpose", "x", "--ttl", "soon"], /got "soon"/],
    [["lease", "acquire", "db:x", "--purpose", "x", "--ttl"], /^error: flag --ttl needs a value/],
    [["lease", "acquire", "db:x", "--purpose", "x", "--bogus"], /^error: unknown flag --bogus/],
    [["lease", "renew"], /^error: missing argument: 'lease renew' takes <lease-id>/],
    [["lease", "renew", HEX, HEX], /^error: too many arguments: 'lease renew'/],
    [["lease", "renew", "xyz"], /^error: lease id must be 32 lowercase hex characters, got "xyz"/],
    [
      ["lease", "renew", HEX, "--purpose", "x"],
      /^error: --purpose does not apply to 'lease renew'/,
    ],
    [["lease", "renew", HEX, "--ttl", "1y"], /^error: --ttl must be a duration/],
    [["lease", "release"], /^error: missing argument: 'lease release'/],
    [["lease", "release", HEX.toUpperCase()], /^error: lease id must be 32 lowercase hex/],
    [["lease", "release", HEX, "--ttl", "1m"], /^error: --ttl does not apply to 'lease release'/],
    [["lease", "list", "extra"], /^error: too many arguments: 'lease list' takes no arguments/],
    [["guard"], /^error: missing argument: guard takes <resource>/],
    [["guard", "nokind"], /^error: Invalid resource "nokind"/],
    [["guard", "path:src/*.ts"], /wildcards are not supported/],
    [["guard", "db:x", "--lease", "nope"], /^error: lease id must be 32 lowercase hex/],
    [["guard", "db:x", "--lease"], /^error: flag --lease needs a value/],
    [["window"], /^error: missing argument: window takes request\|ack/],
    [["window", "open", HEX], /^error: unknown window subcommand "open"/],
    [
      ["window", "request", "--purpose", "x"],
      /^error: missing argument: 'window request' takes <resource>/,
    ],
    [["window", "request", "db:x"], /^error: --purpose is required/],
    [["window", "request", "path:..", "--purpose", "x"], /\.\. segments/],
    [
      ["window", "request", "db:x", "--purpose", "x", "--ttl", "0s"],
      /^error: --ttl must be a duration/,
    ],
    [
      ["window", "request", "db:x", "--purpose", "x", "--ack-timeout", "2d"],
      /^error: --ack-timeout must be a duration/,
    ],
    [["window", "ack"], /^error: missing argument: 'window ack' takes <window-id>/],
    [["window", "ack", "1"], /^error: window id must be 32 lowercase hex/],
    [["window", "activate", HEX, HEX], /^error: too many arguments: 'window activate'/],
    [
      ["window", "release", HEX, "--purpose", "x"],
      /^error: --purpose does not apply to 'window release'/,
    ],
    [
      ["window", "cancel", HEX, "--require", "bob"],
      /^error: --require does not apply to 'window cancel'/,
    ],
    [["window", "status", "zzz"], /^error: window id must be 32 lowercase hex/],
    [["window", "status", HEX, HEX], /^error: too many arguments: 'window status'/],
    [["work"], /^error: missing argument: work takes <started\|waiting/],
    [["work", "done", "--scope", "a", "--summary", "b"], /^error: unknown work state "done"/],
    [["work", "started", "--summary", "b"], /^error: --scope is required/],
    [["work", "started", "--scope", "a"], /^error: --summary is required/],
    [["work", "handoff", "--scope", "a", "--summary", "b"], /^error: handoff requires --to AGENT/],
    [
      ["work", "started", "--scope", "a", "--summary", "b", "--data", "{x"],
      /^error: --data must be JSON/,
    ],
    [
      ["work", "started", "--scope", "a", "--summary", "b", "--ttl", "x"],
      /^error: --ttl must be a duration/,
    ],
    [
      ["work", "started", "extra", "--scope", "a", "--summary", "b"],
      /^error: too many arguments: work takes/,
    ],
    [["status", "extra"], /^error: too many arguments: status takes no arguments/],
    [["status", "--limit", "0"], /^error: --limit must be between 1 and 10000/],
    [["status", "--limit", "x"], /^error: --limit must be a non-negative whole number/],
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
      fails(r, 2, pattern, what);
      assert.match(r.stderr, new RegExp(`; run 'agentroom ${args[0]} --help'\\n$`), what);
      assert.equal(r.stdout, "", what);
    }
  });
  assert.equal(await roomKeyCount(repo), 0, "nothing was written to Redis");
});

Deno.test("coordination commands with Redis unreachable exit 1 naming the address", async () => {
  const url = `redis://127.0.0.1:${closedPort()}`;
  const commands = [
    ["lease", "acquire", "db:x", "--purpose", "x"],
    ["lease", "renew", HEX],
    ["lease", "release", HEX],
    ["lease", "list"],
    ["guard", "db:x"],
    ["window", "request", "db:x", "--purpose", "x", "--require", "bob"],
    ["window", "ack", HEX],
    ["window", "activate", HEX],
    ["window", "release", HEX],
    ["window", "cancel", HEX],
    ["window", "status"],
    ["work", "started", "--scope", "a", "--summary", "b"],
    ["status"],
  ];
  const results = await inBatches(commands.map((args) => () =>
    runCli(args, {
      env: { AGENTROOM_REDIS_URL: url, REPO_ID: "x", AGENTROOM_SESSION_ID: "s" },
      deadlineMs: 5_000,
    })
  ));
  results.forEach((r, i) => {
    const what = commands[i]!.join(" ");
    fails(
      r,
      1,
      /^error: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*start redis-server/,
      what,
    );
    assert.equal(r.stdout, "", what);
  });
});

Deno.test("lease and window help list the subcommands with examples", async () => {
  for (const command of ["lease", "window", "guard", "work", "status"]) {
    const r = ok(await runCli([command, "--help"]), `${command} --help`);
    assert.match(r.stdout, new RegExp(`^agentroom ${command}: `));
    assert.match(r.stdout, /\nExamples:\n  agentroom /);
  }
  const lease = (await runCli(["help", "lease"])).stdout;
  for (const sub of ["acquire", "renew", "release", "list"]) {
    assert.match(lease, new RegExp(`  ${sub} `));
  }
  const window = (await runCli(["window", "--help"])).stdout;
  for (const sub of ["request", "ack", "activate", "release", "cancel", "status"]) {
    assert.match(window, new RegExp(`  ${sub} `));
  }
});
