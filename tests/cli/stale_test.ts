import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { agent, ok } from "../support/cli.ts";
import { closedPort, uniqueRepo, withRedis } from "../support/redis.ts";
import { hookOutput, payload, runHook } from "../support/hook.ts";

async function eventTypes(repo: string): Promise<string[]> {
  return await withRedis(async (redis) => {
    const entries = await redis.call([
      "XRANGE",
      roomKeys({ repo, branch: "main" }).events,
      "-",
      "+",
    ]) as [string, string[]][];
    return entries.map(([, f]) => f[f.indexOf("type") + 1]!);
  });
}

const count = (types: string[], type: string) => types.filter((t) => t === type).length;

async function leaseOfAbsentBob(repo: string): Promise<string> {
  const bob = agent(repo, "bbbb2222", "bob");
  const got = ok(
    await bob.run(["lease", "acquire", "path:src/db", "--purpose", "migration", "--json"]),
    "acquire",
  );
  ok(await bob.run(["leave"]), "leave");
  return JSON.parse(got.stdout).id;
}

async function taskOfAbsentBob(repo: string): Promise<string> {
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["register", "FIX", "fix it"]), "register");
  const task = JSON.parse(ok(await bob.run(["post", "FIX", "flaky test", "--json"]), "post").stdout)
    .id;
  ok(await bob.run(["claim", task, "--ttl", "1h"]), "claim");
  ok(await bob.run(["leave"]), "leave");
  return task;
}

Deno.test("lease break: refused within the grace period, --now breaks it, audited, the owner is told", async () => {
  const repo = uniqueRepo();
  const id = await leaseOfAbsentBob(repo);
  const alice = agent(repo, "aaaa1111", "alice");
  const list = ok(await alice.run(["lease", "list"]), "list");
  assert.match(list.stdout, /migration {2}\[owner absent <1m\]\n$/);
  const listJson = JSON.parse(ok(await alice.run(["lease", "list", "--json"]), "json").stdout);
  assert.equal(listJson.leases[0].owner_presence.present, false);
  const early = await alice.run(["lease", "break", id, "--reason", "bob crashed"]);
  assert.equal(early.code, 3, early.stderr);
  assert.match(
    early.stderr,
    /^error: cannot break lease [0-9a-f]{32} yet: its owner bob-bbbb2222 has been absent <1m, less than the grace period of 15m0s; wait, or break it at once with --now \(audited\)\n$/,
  );
  assert.equal(count(await eventTypes(repo), "LEASE_BROKEN"), 0);
  const broke = ok(
    await alice.run(["lease", "break", id, "--reason", "bob crashed", "--now"]),
    "now",
  );
  assert.match(broke.stdout, /^broke lease [0-9a-f]{32} of bob-bbbb2222 on path:src\/db; /);
  assert.equal(count(await eventTypes(repo), "LEASE_BROKEN"), 1);
  assert.equal(ok(await alice.run(["lease", "list"]), "list").stdout, "(no live leases)\n");
  // bob returns: the notice waits in his inbox
  const inbox = ok(await agent(repo, "bbbb2222", "bob").run(["inbox", "--json"]), "inbox");
  const notice = JSON.parse(inbox.stdout.trim());
  assert.equal(notice.type, "LEASE_BROKEN");
  assert.equal(notice.agent_id, "alice-aaaa1111");
  assert.equal(notice.payload.reason, "bob crashed");
  assert.equal(notice.payload.forced, true);
  // the resource is free again
  ok(await alice.run(["lease", "acquire", "path:src/db", "--purpose", "take over"]), "acquire");
});

Deno.test("lease break: --grace 0s breaks without --now; a present owner and your own lease are refused", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const carol = agent(repo, "cccc3333", "carol");
  const held = JSON.parse(
    ok(await carol.run(["lease", "acquire", "db:main", "--purpose", "p", "--json"]), "c").stdout,
  ).id;
  const present = await alice.run(["lease", "break", held, "--reason", "r", "--now"]);
  assert.equal(present.code, 3);
  assert.match(
    present.stderr,
    /^error: cannot break lease [0-9a-f]{32}: its owner carol-cccc3333 is present; /,
  );
  const own = await carol.run(["lease", "break", held, "--reason", "r", "--now"]);
  assert.equal(own.code, 1);
  assert.match(own.stderr, /held by your own session; release it with/);
  const id = await leaseOfAbsentBob(repo);
  ok(await alice.run(["lease", "break", id, "--reason", "gone", "--grace", "0s"]), "grace 0");
  const missing = await alice.run(["lease", "break", id, "--reason", "again", "--now"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: lease [0-9a-f]{32} expired or was released already/);
});

Deno.test("lease break and claim --steal: bad input exits 2 and writes nothing; Redis down exits 1", async () => {
  const repo = uniqueRepo();
  const id = await leaseOfAbsentBob(repo);
  const task = await taskOfAbsentBob(repo);
  const alice = agent(repo, "aaaa1111", "alice");
  const before = await eventTypes(repo);
  const cases: string[][] = [
    ["lease", "break", id],
    ["lease", "break", id, "--reason", ""],
    ["lease", "break", "nothex", "--reason", "r"],
    ["lease", "break", id, "--reason", "r", "--grace", "soon"],
    ["lease", "break", id, "--reason", "a\nb"],
    ["lease", "break", "--reason", "r"],
    ["lease", "acquire", "path:x", "--purpose", "p", "--now"],
    ["claim", task, "--now"],
    ["claim", task, "--reason", "r"],
    ["claim", task, "--steal", "--grace", "forever"],
    ["claim", "nonsense", "--steal"],
  ];
  for (const args of cases) {
    const r = await alice.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
    assert.match(r.stderr, /^error: /);
  }
  assert.deepEqual(await eventTypes(repo), before, "nothing written");
  const down = { env: { AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}` } };
  for (const args of [["lease", "break", id, "--reason", "r"], ["claim", task, "--steal"]]) {
    const r = await alice.run(args, down);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: /);
  }
});

Deno.test("claim --steal: grace, --now, audited TASK_STOLEN, the former holder is told, the thief holds it", async () => {
  const repo = uniqueRepo();
  const task = await taskOfAbsentBob(repo);
  const alice = agent(repo, "aaaa1111", "alice");
  const early = await alice.run(["claim", task, "--steal"]);
  assert.equal(early.code, 3);
  assert.match(
    early.stderr,
    /its holder bob-bbbb2222 has been absent <1m, less than the grace period/,
  );
  const plain = await alice.run(["claim", task]);
  assert.equal(plain.code, 3, "a plain claim still sees it held");
  const stolen = ok(
    await alice.run(["claim", task, "--steal", "--now", "--reason", "bob left"]),
    "steal",
  );
  assert.match(stolen.stdout, /^took over task \d+-\d+ from bob-bbbb2222 as alice-aaaa1111 /);
  assert.equal(count(await eventTypes(repo), "TASK_STOLEN"), 1);
  const info = JSON.parse(ok(await alice.run(["task", task, "--json"]), "task").stdout);
  assert.equal(info.owner, "alice-aaaa1111");
  const inbox = ok(await agent(repo, "bbbb2222", "bob").run(["inbox", "--json"]), "inbox");
  const notice = JSON.parse(inbox.stdout.trim());
  assert.equal(notice.type, "TASK_STOLEN");
  assert.equal(notice.payload.reason, "bob left");
  // bob is present again: a steal by carol is refused; alice's own steal is refused
  const carol = await agent(repo, "cccc3333", "carol").run(["claim", task, "--steal", "--now"]);
  assert.equal(carol.code, 3, "alice (the holder now) is present");
  const own = await alice.run(["claim", task, "--steal"]);
  assert.equal(own.code, 1);
});

Deno.test("race: 8 processes break one lease and 8 steal one task; exactly one winner each", async () => {
  const repo = uniqueRepo();
  const id = await leaseOfAbsentBob(repo);
  const task = await taskOfAbsentBob(repo);
  const breakers = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        agent(repo, `race${i}000`, `r${i}`).spawn([
          "lease",
          "break",
          id,
          "--reason",
          "race",
          "--now",
        ], {
          deadlineMs: 60_000,
        }),
    ),
  );
  assert.equal(
    breakers.filter((r) => r.code === 0).length,
    1,
    breakers.map((r) => r.stderr).join(""),
  );
  assert.ok(breakers.every((r) => r.code === 0 || r.code === 1), "the others find it gone");
  const stealers = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        agent(repo, `steal${i}00`, `s${i}`).spawn(["claim", task, "--steal", "--now"], {
          deadlineMs: 60_000,
        }),
    ),
  );
  assert.equal(
    stealers.filter((r) => r.code === 0).length,
    1,
    stealers.map((r) => r.stderr).join(""),
  );
  assert.ok(stealers.every((r) => r.code === 0 || r.code === 3));
  const types = await eventTypes(repo);
  assert.equal(count(types, "LEASE_BROKEN"), 1);
  assert.equal(count(types, "TASK_STOLEN"), 1);
});

Deno.test("absent owners are marked by status, who, guard and the session-start digest", async () => {
  const repo = uniqueRepo();
  const id = await leaseOfAbsentBob(repo);
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["post", "HI"]), "alice joins");
  const status = ok(await alice.run(["status"]), "status");
  assert.match(status.stdout, new RegExp(`${id} .*migration {2}\\[owner absent <1m\\]`));
  const statusJson = JSON.parse(ok(await alice.run(["status", "--json"]), "json").stdout);
  assert.deepEqual(statusJson.leases[0].owner_presence.present, false);
  const who = ok(await alice.run(["who"]), "who");
  assert.match(
    who.stdout,
    /holding without live presence[^\n]*\n {2}bob-bbbb2222 {2}\[owner absent <1m\] {2}holds 1 lease\n$/,
  );
  const whoJson = JSON.parse(ok(await alice.run(["who", "--json"]), "who json").stdout);
  assert.equal(whoJson.absent_holders[0].agent_id, "bob-bbbb2222");
  assert.deepEqual(whoJson.absent_holders[0].leases, [id]);
  const guard = await alice.run(["guard", "path:src/db/x.sql"]);
  assert.equal(guard.code, 3);
  assert.match(guard.stderr, /owner absent <1m\); break it with 'agentroom lease break /);
  const guardJson = await alice.run(["guard", "path:src/db/x.sql", "--json"]);
  assert.equal(JSON.parse(guardJson.stdout).holder_presence.present, false);
  // bob comes back: no longer marked
  ok(await agent(repo, "bbbb2222", "bob").run(["post", "BACK"]), "bob returns");
  assert.doesNotMatch(ok(await alice.run(["status"]), "status").stdout, /owner absent/);
});

Deno.test("session-start digest marks a lease whose owner is absent and says how to break it", async () => {
  const repo = uniqueRepo();
  const id = await leaseOfAbsentBob(repo);
  const result = await runHook(
    "session-start",
    payload("claude_session_start", { session_id: "a1a1a1a1-0000-4000-8000-00000000000a" }),
    { env: { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_AGENT: "alice" } },
  );
  const { context } = hookOutput(result, "SessionStart");
  assert.match(
    context,
    new RegExp(
      `held by bob-bbbb2222 \\[/room-data [0-9a-f]{12}\\] \\(owner absent <1m\\); \`agentroom lease break ${id} --reason \\.\\.\\.\``,
    ),
  );
});

Deno.test("--json on conflicts: claim, lease acquire and window request print a verdict on stdout with exit 3", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  const lease = JSON.parse(
    ok(await bob.run(["lease", "acquire", "path:src/db", "--purpose", "p", "--json"]), "").stdout,
  ).id;
  const acquire = await alice.run([
    "lease",
    "acquire",
    "path:src/db/x",
    "--purpose",
    "q",
    "--json",
  ]);
  assert.equal(acquire.code, 3);
  const verdict = JSON.parse(acquire.stdout);
  assert.equal(verdict.conflict, true);
  assert.equal(verdict.holder, "bob-bbbb2222");
  assert.equal(verdict.id, lease);
  assert.ok(verdict.time_left_ms > 0);
  assert.deepEqual(verdict.holder_presence, { present: true });
  assert.match(acquire.stderr, /^error: cannot acquire lease: /);
  const window = await alice.run(["window", "request", "path:src", "--purpose", "w", "--json"]);
  if (window.code === 3) {
    assert.equal(JSON.parse(window.stdout).holder, "bob-bbbb2222");
  } else {
    // a window over a lease asks the holder instead of conflicting: request one over the window
    assert.equal(window.code, 0, window.stderr);
    const w = await bob.run(["window", "request", "path:src/x", "--purpose", "w2", "--json"]);
    assert.equal(w.code, 3, w.stderr);
    const v = JSON.parse(w.stdout);
    assert.equal(v.conflict, true);
    assert.equal(v.kind, "window");
    assert.equal(v.holder, "alice-aaaa1111");
  }
  const task = await taskOfAbsentBob(repo);
  const claim = await alice.run(["claim", task, "--json"]);
  assert.equal(claim.code, 3);
  const c = JSON.parse(claim.stdout);
  assert.equal(c.reason, "held");
  assert.equal(c.holder, "bob-bbbb2222");
  assert.equal(c.holder_presence.present, false);
  assert.match(
    claim.stderr,
    /owner absent <1m\); take it over with 'agentroom claim \d+-\d+ --steal'/,
  );
});
