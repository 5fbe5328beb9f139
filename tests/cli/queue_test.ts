import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { agent, ok } from "../support/cli.ts";
import { closedPort, uniqueRepo, withRedis } from "../support/redis.ts";

async function eventCount(repo: string): Promise<number> {
  return await withRedis(async (redis) =>
    await redis.call(["XLEN", roomKeys({ repo, branch: "main" }).events]) as number
  );
}

function idOf(stdout: string): string {
  return JSON.parse(stdout).id;
}

Deno.test("claim --next: highest priority first, FIFO within a priority, every --tag, catalog defaults", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(
    await alice.run(["register", "FIX", "fix", "--priority", "1", "--tag", "backend"]),
    "register",
  );
  const cat = ok(await alice.run(["catalog"]), "catalog");
  assert.match(cat.stdout, /priority=1 tags=backend/);
  const a = idOf(ok(await alice.run(["post", "FIX", "a", "--json"]), "a").stdout);
  const b = idOf(
    ok(await alice.run(["post", "FIX", "b", "--priority", "5", "--tag", "frontend", "--json"]), "b")
      .stdout,
  );
  const c = idOf(
    ok(
      await alice.run(["post", "FIX", "c", "--priority", "5", "--tag", "frontend,ui", "--json"]),
      "c",
    ).stdout,
  );
  const d = idOf(
    ok(await alice.run(["post", "FIX", "d", "--priority=-3", "--json"]), "d").stdout,
  );
  const first = JSON.parse(ok(await alice.run(["claim", "--next", "--json"]), "next").stdout);
  assert.equal(first.task_id, b, "priority 5 before 1; b before c (FIFO)");
  assert.deepEqual(first.tags, ["frontend"]);
  const bob = agent(repo, "bbbb2222", "bob");
  const tagged = ok(await bob.run(["claim", "--next", "--tag", "backend"]), "backend");
  assert.match(tagged.stdout, new RegExp(`^claimed task ${a} \\(FIX, priority 1, tags backend\\)`));
  const carol = agent(repo, "cccc3333", "carol");
  const none = await carol.run(["claim", "--next", "--tag", "frontend", "--tag", "backend"]);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /^error: no open task tagged backend, frontend to claim/);
  const ui = JSON.parse(
    ok(await carol.run(["claim", "--next", "--tag", "ui", "--json"]), "ui").stdout,
  );
  assert.equal(ui.task_id, c);
  const last = JSON.parse(ok(await carol.run(["claim", "--next", "--json"]), "last").stdout);
  assert.equal(last.task_id, d);
  assert.equal((await carol.run(["claim", "--next"])).code, 3, "nothing left");
});

Deno.test("claim --next skips tasks gated by a prerequisite", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["register", "DEPLOY", "deploy", "--prereq", "BUILD_OK"]), "register");
  ok(await alice.run(["register", "FIX", "fix"]), "register");
  const deploy = idOf(
    ok(await alice.run(["post", "DEPLOY", "x", "--priority", "100", "--json"]), "").stdout,
  );
  const fix = idOf(ok(await alice.run(["post", "FIX", "y", "--json"]), "").stdout);
  assert.equal(
    JSON.parse(ok(await alice.run(["claim", "--next", "--json"]), "").stdout).task_id,
    fix,
  );
  ok(await alice.run(["post", "BUILD_OK", "green"]), "build");
  assert.equal(
    JSON.parse(ok(await alice.run(["claim", "--next", "--json"]), "").stdout).task_id,
    deploy,
  );
});

Deno.test("race: 8 processes claim --next over 8 tasks: each task exactly once", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["register", "JOB", "job"]), "register");
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    ids.push(
      idOf(
        ok(await alice.run(["post", "JOB", `${i}`, "--priority", `${i % 3}`, "--json"]), "").stdout,
      ),
    );
  }
  const runs = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        agent(repo, `race${i}abc`, `w${i}`).spawn(["claim", "--next", "--json"], {
          deadlineMs: 60_000,
        }),
    ),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const taken = runs.map((r) => JSON.parse(r.stdout).task_id as string);
  assert.deepEqual([...taken].sort(), [...ids].sort(), "every task taken exactly once");
  assert.equal((await alice.run(["claim", "--next"])).code, 3);
  const types = await withRedis(async (redis) => {
    const entries = await redis.call([
      "XRANGE",
      roomKeys({ repo, branch: "main" }).events,
      "-",
      "+",
    ]) as [string, string[]][];
    return entries.map(([, f]) => f[f.indexOf("type") + 1]);
  });
  assert.equal(types.filter((t) => t === "TASK_CLAIMED").length, 8);
});

Deno.test("hung lists holders that went away, with what they hold", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  assert.equal(ok(await alice.run(["hung"]), "empty").stdout, "(no hung holders)\n");
  const lease = idOf(
    ok(await bob.run(["lease", "acquire", "db:main", "--purpose", "p", "--json"]), "").stdout,
  );
  ok(await alice.run(["lease", "acquire", "db:other", "--purpose", "p"]), "alice holds too");
  assert.equal(ok(await alice.run(["hung"]), "present").stdout, "(no hung holders)\n");
  assert.match(
    ok(await alice.run(["hung", "--threshold", "0s"]), "silent").stdout,
    /\[present, silent <1m\]  holds 1 lease/,
  );
  ok(await bob.run(["leave"]), "leave");
  const r = ok(await alice.run(["hung"]), "hung");
  assert.equal(r.stdout, "bob-bbbb2222  [owner absent <1m]  holds 1 lease\n");
  const json = JSON.parse(ok(await alice.run(["hung", "--json"]), "json").stdout);
  assert.deepEqual(json.hung[0].leases, [lease]);
  assert.equal(json.hung[0].present, false);
});

Deno.test("thread shows a reply_to chain as one conversation, oldest first", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const q = idOf(ok(await alice.run(["post", "QUESTION", "retry cap?", "--json"]), "").stdout);
  const r1 = idOf(
    ok(await bob.run(["post", "ANSWER", "30s", "--reply-to", q, "--json"]), "").stdout,
  );
  ok(await alice.run(["post", "NOTE", "unrelated"]), "noise");
  const r2 = idOf(
    ok(await alice.run(["post", "ANSWER", "thanks", "--reply-to", r1, "--json"]), "").stdout,
  );
  for (const from of [q, r1, r2]) {
    const t = JSON.parse(ok(await alice.run(["thread", from, "--json"]), from).stdout);
    assert.deepEqual(t.thread.map((e: { id: string }) => e.id), [q, r1, r2]);
  }
  const text = ok(await alice.run(["thread", r1]), "text").stdout;
  assert.match(text, /retry cap\?[^]*30s[^]*thanks/);
  assert.doesNotMatch(text, /unrelated/);
  const missing = await alice.run(["thread", "1-0"]);
  assert.equal(missing.code, 1);
});

Deno.test("decide publishes a structured DECISION that tail --type DECISION lists", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const r = ok(
    await alice.run([
      "decide",
      "retry-policy",
      "--context",
      "flaky upstream",
      "--reason",
      "cap at 30s",
      "--json",
    ]),
    "decide",
  );
  const event = JSON.parse(r.stdout);
  assert.equal(event.type, "DECISION");
  assert.deepEqual(event.payload, {
    decision: "retry-policy",
    context: "flaky upstream",
    reason: "cap at 30s",
  });
  ok(await alice.run(["post", "NOTE", "other"]), "noise");
  const log = ok(await alice.run(["tail", "--type", "DECISION", "--json"]), "tail").stdout.trim()
    .split("\n");
  assert.equal(log.length, 1);
  assert.equal(JSON.parse(log[0]!).id, event.id);
});

Deno.test("queue and board commands: bad input exits 2 and writes nothing; Redis down exits 1", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["post", "HI"]), "join");
  const before = await eventCount(repo);
  const cases = [
    ["post", "FIX", "x", "--priority", "high"],
    ["post", "FIX", "x", "--priority", "5000"],
    ["post", "FIX", "x", "--tag", "bad tag"],
    ["register", "FIX", "fix", "--priority", "1.5"],
    ["claim", "--next", "1-0"],
    ["claim", "--next", "--steal"],
    ["claim", "1-0", "--tag", "x"],
    ["claim"],
    ["claim", "--next", "--tag", "a b"],
    ["hung", "--threshold", "later"],
    ["hung", "extra"],
    ["thread"],
    ["thread", "not-an-id"],
    ["decide", "x", "--context", "c"],
    ["decide", "x", "--reason", "r"],
    ["decide", "bad type", "--context", "c", "--reason", "r"],
  ];
  for (const args of cases) {
    const r = await alice.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: [^\n]*\n$/);
  }
  assert.equal(await eventCount(repo), before);
  const down = { env: { AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}` } };
  for (
    const args of [
      ["claim", "--next"],
      ["hung"],
      ["thread", "1-0"],
      ["decide", "x", "--context", "c", "--reason", "r"],
    ]
  ) {
    const r = await alice.run(args, down);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, /^error: /);
  }
});
