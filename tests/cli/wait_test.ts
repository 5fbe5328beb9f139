import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { agent, ok } from "../support/cli.ts";
import { until } from "../support/poll.ts";
import { startRedis, uniqueRepo, withRedis } from "../support/redis.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";

/** Resolves once `n` clients are blocked in XREAD on the shared server. */
async function blockedInXread(n = 1): Promise<void> {
  await withRedis(async (redis: RedisPort) => {
    await until(`${n} client(s) blocked in XREAD`, async () => {
      const clients = String(await redis.call(["CLIENT", "LIST", "TYPE", "normal"])).split("\n");
      return clients.filter((c) => / cmd=xread( |$)/.test(c) && / flags=\S*b/.test(c)).length >=
        n;
    }, 10_000);
  });
}

async function eventCount(repo: string): Promise<number> {
  return await withRedis(async (redis) =>
    await redis.call(["XLEN", roomKeys({ repo, branch: "main" }).events]) as number
  );
}

function leaseId(stdout: string): string {
  return JSON.parse(stdout).id;
}

Deno.test("lease acquire --wait and guard --wait wake on the release, not by polling", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  const held = leaseId(
    ok(await bob.run(["lease", "acquire", "path:src/db", "--purpose", "p", "--json"]), "b").stdout,
  );
  const guard = alice.start(["guard", "path:src/db/x.sql", "--wait", "--timeout", "30s"]);
  const acquire = alice.start([
    "lease",
    "acquire",
    "path:src/db",
    "--purpose",
    "mine next",
    "--wait",
    "--timeout",
    "30s",
  ]);
  await blockedInXread(2);
  ok(await bob.run(["lease", "release", held]), "release");
  const [g, a] = await Promise.all([guard.done(), acquire.done()]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^acquired lease [0-9a-f]{32} on path:src\/db /);
  // the guard woke on the release too; it may see alice's new lease (its own session) as safe
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.stdout, "safe\n");
});

Deno.test("--wait --timeout exits as without --wait (3, same message); a lapse wakes a waiter", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await bob.run(["lease", "acquire", "db:main", "--purpose", "p"]), "b");
  const plain = await alice.run(["lease", "acquire", "db:main", "--purpose", "q"]);
  const waited = await alice.run([
    "lease",
    "acquire",
    "db:main",
    "--purpose",
    "q",
    "--wait",
    "--timeout",
    "300ms",
  ]);
  assert.equal(plain.code, 3);
  assert.equal(waited.code, 3);
  assert.equal(
    waited.stderr.replace(/\d+m\d+s left/, "T left"),
    plain.stderr.replace(/\d+m\d+s left/, "T left"),
  );
  const guard = await alice.run(["guard", "db:main", "--wait", "--timeout", "200ms"]);
  assert.equal(guard.code, 3);
  // a short lease lapses: the waiter wakes when it lapses, without any event
  ok(await bob.run(["lease", "acquire", "db:short", "--purpose", "p", "--ttl", "400ms"]), "short");
  const after = await alice.run([
    "lease",
    "acquire",
    "db:short",
    "--purpose",
    "q",
    "--wait",
    "--timeout",
    "20s",
  ]);
  assert.equal(after.code, 0, after.stderr);
});

Deno.test("claim --wait takes the task once its holder releases it", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await bob.run(["register", "FIX", "fix"]), "register");
  const task = JSON.parse(ok(await bob.run(["post", "FIX", "x", "--json"]), "post").stdout).id;
  ok(await bob.run(["claim", task]), "claim");
  const waiting = alice.start(["claim", task, "--wait", "--timeout", "30s"]);
  await blockedInXread();
  ok(await bob.run(["release", task]), "release");
  const r = await waiting.done();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^claimed task /);
  const timeout = await bob.run(["claim", task, "--wait", "--timeout", "200ms"]);
  assert.equal(timeout.code, 3);
});

Deno.test("window activate --wait activates once the required agent acknowledges", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await bob.run(["post", "HI"]), "bob joins");
  const requested = ok(
    await alice.run([
      "window",
      "request",
      "db:main",
      "--purpose",
      "migrate",
      "--require",
      "bob",
      "--ack-timeout",
      "1m",
      "--json",
    ]),
    "request",
  );
  const id = JSON.parse(requested.stdout).id;
  const activating = alice.start(["window", "activate", id, "--wait", "--timeout", "30s"]);
  await blockedInXread();
  ok(await bob.run(["window", "ack", id]), "ack");
  const r = await activating.done();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /is active/);
});

Deno.test("wait --type wakes only on that type", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const waiting = alice.start(["wait", "--type", "BUILD_OK", "--timeout", "30s", "--json"]);
  await blockedInXread();
  ok(await agent(repo, "bbbb2222", "bob").run(["post", "NOTE", "noise"]), "noise");
  ok(await agent(repo, "bbbb2222", "bob").run(["post", "BUILD_OK", "green"]), "build");
  const r = await waiting.done();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).type, "BUILD_OK");
});

Deno.test("--wait bad input exits 2 and writes nothing", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const before = await eventCount(repo);
  const cases = [
    ["lease", "acquire", "db:x", "--purpose", "p", "--timeout", "1m"],
    ["lease", "acquire", "db:x", "--purpose", "p", "--wait", "--timeout", "soon"],
    ["lease", "renew", "0123456789abcdef0123456789abcdef", "--wait"],
    ["guard", "db:x", "--timeout", "1m"],
    ["guard", "--staged", "--wait"],
    ["window", "request", "db:x", "--purpose", "p", "--wait"],
    ["window", "ack", "0123456789abcdef0123456789abcdef", "--wait"],
    ["claim", "1-0", "--timeout", "5s"],
    ["claim", "1-0", "--steal", "--wait"],
    ["wait", "--type", "bad type"],
  ];
  for (const args of cases) {
    const r = await alice.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: [^\n]*\n$/);
  }
  assert.equal(await eventCount(repo), before);
});

Deno.test("wait and tail --follow without a timeout exit 1 with one line when Redis stops answering", async () => {
  const server = await startRedis();
  try {
    const env = { AGENTROOM_REDIS_URL: server.url };
    const repo = uniqueRepo();
    const alice = agent(repo, "aaaa1111", "alice");
    const waiting = alice.start(["wait"], { env, deadlineMs: 60_000 });
    const following = alice.start(["tail", "--follow"], { env, deadlineMs: 60_000 });
    const admin = await connectRedis(parseRedisUrl(server.url));
    try {
      await until("two clients blocked in XREAD", async () => {
        const clients = String(await admin.call(["CLIENT", "LIST", "TYPE", "normal"])).split("\n");
        return clients.filter((c) => / cmd=xread( |$)/.test(c)).length >= 2;
      }, 10_000);
      // the server stops answering every client (as a stopped or hung server would)
      await admin.call(["CLIENT", "PAUSE", "60000", "ALL"]);
      const [w, f] = await Promise.all([waiting.done(), following.done()]);
      for (const r of [w, f]) {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /^error: Redis at [^\n]* did not answer [^\n]*\n$/);
      }
    } finally {
      admin.close();
    }
  } finally {
    await server.stop();
  }
});
