/**
 * CLI twins of the MCP tools: `ping` (and `ping --answer`), `pending`,
 * `post --private`, `post --expect-reply`.
 */
import assert from "node:assert/strict";
import { agent, ok } from "../support/cli.ts";
import { until } from "../support/poll.ts";
import { roomKeyCount, uniqueRepo } from "../support/redis.ts";

Deno.test("ping: answered by ping --answer, an honest timeout otherwise", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "NOTE", "here"]), "bob joins");
  ok(await alice.run(["post", "NOTE", "here"]), "alice joins");

  const silent = await alice.run(["ping", "bob", "--timeout", "200ms"]);
  assert.equal(silent.code, 1);
  assert.match(silent.stderr, /^error: no agentroom process of bob-bbbb2222 answered within 200ms/);

  const answering = bob.start(["ping", "--answer"]);
  try {
    const r = await until("bob answers", async () => {
      const r = await alice.run(["ping", "bob", "--timeout", "1s", "--json"]);
      return r.code === 0 ? r : undefined;
    }, 10_000);
    const result = JSON.parse(r.stdout);
    assert.equal(result.to, "bob-bbbb2222");
    assert.equal(result.answered, true);
    assert.equal(result.answered_by, "agentroom ping --answer");
    const text = ok(await alice.run(["ping", "bob"]), "text");
    assert.match(text.stdout, /^bob-bbbb2222 answered in [\d.]+ ms \(agentroom ping --answer\)\n$/);
  } finally {
    answering.interrupt();
    const done = await answering.done();
    assert.equal(done.code, 0, done.stderr);
  }
});

Deno.test("post --private and --expect-reply; pending lists and replies settle", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "NOTE", "here"]), "bob joins");

  const priv = ok(await alice.run(["post", "NOTE", "psst", "--to", "bob", "--private"]), "private");
  assert.match(priv.stdout, /^posted NOTE privately to bob-bbbb2222's inbox \(entry \d+-\d+\)\n$/);
  const feed = ok(await bob.run(["tail", "--json"]), "tail").stdout;
  assert.ok(!feed.includes("psst"));
  const inbox = JSON.parse(ok(await bob.run(["inbox", "--json"]), "inbox").stdout);
  assert.equal(inbox.payload, "psst");

  assert.equal(ok(await alice.run(["pending"]), "empty").stdout, "(no replies pending)\n");
  const asked = JSON.parse(
    ok(
      await alice.run([
        "post",
        "REVIEW",
        "PR 12",
        "--to",
        "bob",
        "--expect-reply",
        "--within",
        "1h",
        "--json",
      ]),
      "expect",
    ).stdout,
  );
  const listed = ok(await alice.run(["pending"]), "pending").stdout;
  assert.match(
    listed,
    new RegExp(`^${asked.id}  REVIEW  to bob-bbbb2222  waiting \\(due in (?:59m\\d+s|1h0m)\\)\\n$`),
  );
  ok(
    await bob.run(["post", "NOTE", "done", "--to", "alice-aaaa1111", "--reply-to", asked.id]),
    "reply",
  );
  assert.deepEqual(
    JSON.parse(ok(await alice.run(["pending", "--json"]), "json").stdout).pending,
    [],
  );
});

Deno.test("post --private / --expect-reply / --within: bad input is a usage error and writes nothing", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const cases: [string[], RegExp][] = [
    [["post", "NOTE", "x", "--private"], /^error: --private needs --to <agent>/],
    [["post", "NOTE", "x", "--expect-reply"], /^error: --expect-reply needs --to <agent>/],
    [
      ["post", "NOTE", "x", "--to", "b", "--within", "5m"],
      /^error: --within goes with --expect-reply/,
    ],
    [
      ["post", "NOTE", "x", "--to", "b", "--expect-reply", "--within", "soon"],
      /^error: --within must be/,
    ],
    [["ping"], /^error: missing argument: ping takes <agent>/],
    [["ping", "b", "--timeout", "2m"], /^error: --timeout must be a duration from 1ms to 60s/],
    [["ping", "b", "--answer"], /^error: ping --answer takes no <agent>/],
  ];
  for (const [args, expected] of cases) {
    const r = await alice.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  assert.equal(await roomKeyCount(repo), 0);
});
