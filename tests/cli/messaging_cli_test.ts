import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import type { RedisPort } from "../../src/redis/port.ts";
import { closedPort, uniqueRepo, withRedis } from "../support/redis.ts";
import { agent, ok, runCli } from "../support/cli.ts";
import { until } from "../support/poll.ts";

const LOBBY_KEYS = roomKeys({ repo: "lobby", branch: "main" });

async function roomKeyList(repo: string): Promise<string[]> {
  return await withRedis(async (redis) =>
    await redis.call(["KEYS", `${roomKeys({ repo, branch: "main" }).prefix}:*`]) as string[]
  );
}

/** Payloads of one inbox stream, read straight from Redis. */
async function inboxPayloads(repo: string, recipient: string): Promise<unknown[]> {
  return await withRedis(async (redis) => {
    const entries = await redis.call([
      "XRANGE",
      roomKeys({ repo, branch: "main" }).inbox(recipient),
      "-",
      "+",
    ]) as [string, string[]][];
    return entries.map(([, f]) => JSON.parse(f[f.indexOf("payload") + 1]!));
  });
}

async function eventCount(repo: string): Promise<number> {
  return await withRedis(async (redis) =>
    await redis.call(["XLEN", roomKeys({ repo, branch: "main" }).events]) as number
  );
}

/** Total XREAD calls the shared server has served. */
async function xreadCalls(redis: RedisPort): Promise<number> {
  const info = String(await redis.call(["INFO", "commandstats"]));
  return Number(info.match(/cmdstat_xread:calls=(\d+)/)?.[1] ?? 0);
}

/**
 * Resolves once some client is blocked in XREAD on the shared server (the
 * tests of this process run one at a time, so it is the one just started).
 */
async function untilBlockedInXread(redis: RedisPort): Promise<void> {
  await until("a client blocked in XREAD", async () => {
    const clients = String(await redis.call(["CLIENT", "LIST", "TYPE", "normal"])).split("\n");
    return clients.some((c) => / cmd=xread( |$)/.test(c) && / flags=\S*b/.test(c));
  }, 10_000);
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("post --to: exact id, unique handle and prefix land in the resolved agent's inbox", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  for (const [session, handle] of [["bbbb2222", "bob"], ["eeee5555", "reviewer"]]) {
    ok(await agent(repo, session!, handle).run(["post", "HI"]), handle!);
  }
  const sent: [string, string][] = [["bob-bbbb2222", "exact"], ["reviewer", "handle"], [
    "bob-b",
    "prefix",
  ], ["revi", "prefix 2"]];
  for (const [to, text] of sent) {
    const r = ok(await alice.run(["post", "Q", text, "--to", to, "--json"]), to);
    assert.equal(r.stderr, "", `no warning for a live match: ${to}`);
    assert.equal(
      JSON.parse(r.stdout).to,
      to.startsWith("b") ? "bob-bbbb2222" : "reviewer-eeee5555",
    );
  }
  assert.deepEqual(await inboxPayloads(repo, "bob-bbbb2222"), ["exact", "prefix"]);
  assert.deepEqual(await inboxPayloads(repo, "reviewer-eeee5555"), ["handle", "prefix 2"]);
  const inboxes = (await roomKeyList(repo)).filter((k) => k.includes(":inbox:")).sort();
  assert.deepEqual(inboxes, [
    roomKeys({ repo, branch: "main" }).inbox("bob-bbbb2222"),
    roomKeys({ repo, branch: "main" }).inbox("reviewer-eeee5555"),
  ], "keyed by the resolved id, never the raw text");
});

Deno.test("post --to: ambiguous exits 1 listing candidates; nobody warns and uses the raw text", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  for (const session of ["cccc3333", "dddd4444"]) {
    ok(await agent(repo, session, "builder").run(["post", "HI"]), session);
  }
  const before = await eventCount(repo);
  for (const to of ["builder", "builder-"]) {
    const amb = await alice.run(["post", "Q", "which one?", "--to", to]);
    assert.equal(amb.code, 1, amb.stderr);
    assert.match(
      amb.stderr,
      new RegExp(
        `^error: --to "${to}" is ambiguous; candidates: builder-cccc3333, builder-dddd4444\n$`,
      ),
    );
    assert.equal(amb.stdout, "");
  }
  assert.equal(await eventCount(repo), before, "nothing published on ambiguity");
  const none = ok(await alice.run(["post", "Q", "anyone?", "--to", "ghost", "--json"]), "ghost");
  assert.equal(none.stderr, "");
  assert.equal(JSON.parse(none.stdout).to, "ghost");
  assert.equal(JSON.parse(none.stdout).mailbox, "ghost");
  assert.deepEqual(await inboxPayloads(repo, "ghost"), [], "kept in a mailbox, not an inbox");
  const roomKey = ok(await alice.run(["post", "Q", "x", "--to", "lobby:main"]), "room key");
  assert.equal(roomKey.stderr, "");
  assert.deepEqual(
    (await roomKeyList(repo)).filter((k) => k.includes(":inbox:")),
    [],
    "a room key gets no inbox (and ghost's message waits in a mailbox)",
  );
});

Deno.test("inbox: messages sent while away show once, --all re-shows without marking, --json is JSON Lines", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  // bob has never been here: the exact id does not resolve, so it is kept in the
  // mailbox of that id, which moves into bob's inbox when bob writes presence
  for (const text of ["first", "second"]) {
    const r = ok(await alice.run(["post", "NOTE", text, "--to", "bob-bbbb2222"]), text);
    assert.match(r.stdout, /kept in the mailbox of handle bob-bbbb2222/);
  }
  ok(await alice.run(["post", "NOTE", "for everyone"]), "broadcast");
  const first = ok(await bob.run(["inbox"]), "inbox");
  const headers = first.stdout.split("\n").filter((l) => /^\d+-\d+ /.test(l));
  assert.equal(headers.length, 2, first.stdout);
  assert.ok(headers.every((l) => /\bNOTE\s+alice-aaaa1111$/.test(l)), first.stdout);
  assert.match(
    first.stdout,
    /    To: bob-bbbb2222\n    first\n[^]*    To: bob-bbbb2222\n    second\n/,
  );
  assert.doesNotMatch(first.stdout, /for everyone/);
  assert.equal(ok(await bob.run(["inbox"]), "again").stdout, "(no unread messages)\n");

  ok(await alice.run(["post", "NOTE", "third", "--to", "bob"]), "third"); // bob is live now
  const all = ok(await bob.run(["inbox", "--all"]), "--all");
  assert.match(all.stdout, /    first\n[^]*    second\n[^]*    third\n/);
  const all2 = ok(await bob.run(["inbox", "--all", "--count", "2", "--json"]), "--all --count");
  assert.deepEqual(jsonLines(all2.stdout).map((e) => e.payload), ["second", "third"]);
  const unread = ok(await bob.run(["inbox"]), "after --all");
  assert.match(unread.stdout, /    third\n$/, "--all marked nothing read");
  assert.doesNotMatch(unread.stdout, /first|second/);

  for (const text of ["fourth", "fifth", "sixth"]) {
    ok(await alice.run(["post", "NOTE", `{"n":"${text}"}`, "--to", "bob"]), text);
  }
  const one = ok(await bob.run(["inbox", "--json", "--count", "1"]), "--count 1");
  assert.deepEqual(jsonLines(one.stdout).map((e) => e.payload), [{ n: "fourth" }]);
  const json = ok(await bob.run(["inbox", "--json"]), "--json");
  const lines = jsonLines(json.stdout);
  assert.deepEqual(lines.map((e) => e.payload), [{ n: "fifth" }, { n: "sixth" }]);
  for (const line of lines) {
    assert.equal(line.type, "NOTE");
    assert.equal(line.agent_id, "alice-aaaa1111");
    assert.equal(line.to, "bob-bbbb2222");
    assert.match(String(line.id), /^\d+-\d+$/);
    assert.equal(typeof line.timestamp, "number");
  }
  assert.equal(ok(await bob.run(["inbox", "--json"]), "--json empty").stdout, "");
  const stranger = agent(repo, "ffff6666", "stranger");
  assert.equal(ok(await stranger.run(["inbox", "--all"]), "empty").stdout, "(inbox is empty)\n");
});

Deno.test("ask/reply across two real processes: the asker prints the correlated reply", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "STATUS", '{"role":"reviewer"}']), "bob joins");
  const asking = alice.startProcess(
    ["ask", "is the retry cap 30s?", "--to", "bob", "--timeout", "30s"],
    { deadlineMs: 30_000 },
  );
  const [, askId] = await asking.until(
    /^asked bob-bbbb2222 as alice-aaaa1111 \(entry (\d+-\d+)\)\n/,
  );
  const question = jsonLines(ok(await bob.run(["inbox", "--json"]), "bob inbox").stdout);
  assert.deepEqual(question.map((e) => [e.id, e.type, e.payload]), [[
    askId,
    "ASK",
    "is the retry cap 30s?",
  ]]);
  const replied = ok(await bob.run(["reply", askId!, "yes, capped at 30s"]), "reply");
  const [, replyId] = replied.stdout.match(
    new RegExp(`^replied to ${askId} as bob-bbbb2222 \\(entry (\\d+-\\d+)\\)\n$`),
  )!;
  const result = await asking.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, new RegExp(`\n${replyId} +\\S+ +REPLY +bob-bbbb2222\n`));
  assert.match(result.stdout, new RegExp(`    To: alice-aaaa1111\n    ReplyTo: ${askId}\n`));
  assert.match(result.stdout, /    yes, capped at 30s\n$/);
  // ask printed the reply: it does not reappear in alice's inbox
  assert.equal(ok(await alice.run(["inbox", "--json"]), "alice inbox").stdout, "");
});

Deno.test("ask yourself is refused; a reply by anyone but the addressee is refused", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const carol = agent(repo, "cccc3333", "carol");
  ok(await alice.run(["post", "HI"]), "alice joins");
  ok(await bob.run(["post", "HI"]), "bob joins");
  ok(await carol.run(["post", "HI"]), "carol joins");
  const before = await eventCount(repo);
  const self = await alice.run(["ask", "me?", "--to", "alice"]);
  assert.equal(self.code, 1);
  assert.match(self.stderr, /^error: Cannot ask yourself: alice-aaaa1111 is this session/);
  const sibling = await agent(repo, "aaaa1111", "helper").run(["ask", "me?", "--to", "alice"]);
  assert.equal(sibling.code, 1, "another handle of the same session is yourself too");
  assert.equal(await eventCount(repo), before, "nothing written");
  const asking = alice.start(["ask", "ready?", "--to", "bob", "--timeout", "30s"]);
  const [, askId] = await asking.until(/\(entry (\d+-\d+)\)/);
  const wrong = await carol.run(["reply", askId!, "I am not bob"]);
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.stderr,
    /^error: Cannot reply: ask \d+-\d+ is addressed to bob-bbbb2222, not carol-cccc3333; only bob-bbbb2222 can answer it/,
  );
  // another handle of bob's session answers as bob
  ok(await agent(repo, "bbbb2222", "bobs-helper").run(["reply", askId!, "yes"]), "sibling");
  const r = await asking.done();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /REPLY +bob-bbbb2222\n/);
});

Deno.test("ask --json with the answerer waiting in wait --to-me: three agents, no sleeps", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  await withRedis(async (redis) => {
    const waiting = bob.start(["wait", "--to-me", "--json"]);
    await untilBlockedInXread(redis); // bob is live and listening
    const asking = alice.start(["ask", '{"q":"merge?"}', "--to", "bob", "--json"]);
    const heard = await waiting.done();
    assert.equal(heard.code, 0, heard.stderr);
    const question = JSON.parse(heard.stdout);
    assert.equal(question.type, "ASK");
    assert.deepEqual(question.payload, { q: "merge?" });
    ok(await bob.run(["reply", question.id, '{"a":"yes"}']), "reply");
    const result = await asking.done();
    assert.equal(result.code, 0, result.stderr);
    const { ask, reply } = JSON.parse(result.stdout);
    assert.equal(ask.id, question.id);
    assert.deepEqual(reply.payload, { a: "yes" });
    assert.equal(reply.reply_to, question.id);
    assert.equal(reply.agent_id, "bob-bbbb2222");
    assert.equal(result.stdout.trim().split("\n").length, 1, "one JSON document");
  });
});

Deno.test("ask: timeout exits 1; a second concurrent ask exits 3; the lease is released after", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "HI"]), "bob joins");
  const timedOut = await alice.run(["ask", "anyone?", "--to", "bob", "--timeout", "300ms"]);
  assert.equal(timedOut.code, 1, timedOut.stderr);
  const [, timedOutId] = timedOut.stdout.match(
    /^asked bob-bbbb2222 as alice-aaaa1111 \(entry (\S+)\)\n$/,
  )!;
  assert.match(
    timedOut.stderr,
    new RegExp(
      `^error: ask timed out after 300ms without a reply from bob-bbbb2222; the question stays in their inbox \\(entry ${timedOutId}\\)\n$`,
    ),
  );

  const first = alice.start(["ask", "first", "--to", "bob", "--timeout", "30s"]);
  const [, firstId] = await first.until(/\(entry (\d+-\d+)\)\n/);
  const before = await eventCount(repo);
  const second = await alice.run(["ask", "second", "--to", "bob", "--timeout", "30s"]);
  assert.equal(second.code, 3, second.stderr);
  assert.match(
    second.stderr,
    /^error: agent alice-aaaa1111 already has a pending ask; wait for it to finish or time out\n$/,
  );
  assert.equal(second.stdout, "");
  assert.equal(await eventCount(repo), before, "the refused ask published nothing");
  // another agent is not blocked by alice's pending ask
  const carol = await agent(repo, "cccc3333", "carol").run([
    "ask",
    "x",
    "--to",
    "bob",
    "--timeout",
    "100ms",
  ]);
  assert.equal(carol.code, 1, carol.stderr);
  ok(await bob.run(["reply", firstId!, "answer"]), "reply");
  const done = await first.done();
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /    answer\n$/);
  const third = await alice.run(["ask", "third", "--to", "bob", "--timeout", "100ms"]);
  assert.equal(third.code, 1, `released: a timeout, not a conflict: ${third.stderr}`);
  assert.match(third.stderr, /ask timed out/);
  await withRedis(async (redis) => {
    const lease = roomKeys({ repo, branch: "main" }).pendingAsk("alice-aaaa1111");
    assert.equal(await redis.call(["EXISTS", lease]), 0);
  });
});

Deno.test("ask and reply refuse what they cannot answer: no live match, ambiguity, a non-ASK, an unknown id", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const nobody = await alice.run(["ask", "q", "--to", "bob"]);
  assert.equal(nobody.code, 1);
  assert.match(
    nobody.stderr,
    /^error: --to "bob" does not match a live agent; live: \(nobody\)\n$/,
  );
  assert.deepEqual(await roomKeyList(repo), [], "nothing written");
  for (const session of ["cccc3333", "dddd4444"]) {
    ok(await agent(repo, session, "builder").run(["post", "HI"]), session);
  }
  const note = JSON.parse(ok(await alice.run(["post", "NOTE", "x", "--json"]), "note").stdout).id;
  const before = await eventCount(repo);
  const cases: [string[], RegExp][] = [
    [
      ["ask", "q", "--to", "ghost"],
      /^error: --to "ghost" does not match a live agent; live: alice-aaaa1111, builder-cccc3333, builder-dddd4444\n$/,
    ],
    [
      ["ask", "q", "--to", "builder"],
      /^error: --to "builder" is ambiguous; candidates: builder-cccc3333, builder-dddd4444\n$/,
    ],
    [
      ["ask", "q", "--to", "lobby:main"],
      /^error: --to "lobby:main" is a room key; name one live agent\n$/,
    ],
    [["reply", note, "x"], new RegExp(`^error: event ${note} is NOTE, not ASK\n$`)],
    [["reply", "1-0", "x"], /^error: ask 1-0 not found\n$/],
  ];
  for (const [args, pattern] of cases) {
    const r = await alice.run(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "");
  }
  assert.equal(await eventCount(repo), before, "nothing published");
});

Deno.test("wait wakes on a new event within one blocking read", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  await withRedis(async (redis) => {
    const reads = await xreadCalls(redis);
    const waiting = agent(repo, "bbbb2222", "bob").start(["wait", "--timeout", "30s"]);
    await untilBlockedInXread(redis);
    ok(await alice.run(["post", "NOTE", "wake up"]), "post");
    const r = await waiting.done();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+-\d+ +\S+ +NOTE +alice-aaaa1111\n    wake up\n$/);
    assert.equal(await xreadCalls(redis) - reads, 1, "exactly one XREAD");
  });
});

Deno.test("wait --to-me ignores a broadcast and a message to someone else, wakes on one to me", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  await withRedis(async (redis) => {
    const reads = await xreadCalls(redis);
    // no --timeout: waits forever (the run's deadline is only a hang guard)
    const waiting = agent(repo, "bbbb2222", "bob").start(["wait", "--to-me", "--json"]);
    await untilBlockedInXread(redis);
    ok(await alice.run(["post", "NOTE", "for everyone"]), "broadcast");
    ok(await alice.run(["post", "NOTE", "for carol", "--to", "carol-cccc3333"]), "to carol");
    ok(await alice.run(["post", "NOTE", "for bob", "--to", "bob"]), "to bob");
    const r = await waiting.done();
    assert.equal(r.code, 0, r.stderr);
    const [event] = jsonLines(r.stdout);
    assert.equal(event?.payload, "for bob");
    assert.equal(event?.to, "bob-bbbb2222");
    assert.equal(r.stdout.trim().split("\n").length, 1);
    const used = await xreadCalls(redis) - reads;
    assert.ok(used >= 1 && used <= 3, `one blocking read per wake-up, no polling: ${used}`);
  });
});

Deno.test("wait --timeout exits 1 with a clear message", async () => {
  const r = await agent(uniqueRepo(), "aaaa1111").run(["wait", "--timeout", "200ms"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "error: wait timed out after 200ms\n");
  assert.equal(r.stdout, "");
});

Deno.test("lobby: --repo lobby from two checkouts on different branches is one room", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const checkouts: string[] = [];
    for (const [name, branch] of [["one", "feat/a"], ["two", "fix/b"]]) {
      const top = `${dir}/${uniqueRepo(name)}`;
      await Deno.mkdir(`${top}/.git`, { recursive: true });
      await Deno.writeTextFile(`${top}/.git/HEAD`, `ref: refs/heads/${branch}\n`);
      checkouts.push(top);
    }
    const [one, two] = checkouts as [string, string];
    const alice = { AGENTROOM_SESSION_ID: "lobbyaa1", AGENTROOM_AGENT: "alice" };
    const bob = { AGENTROOM_SESSION_ID: "lobbybb2", AGENTROOM_AGENT: "bob" };
    const own = ok(await runCli(["who", "--json"], { cwd: one, env: alice }), "own room");
    assert.equal(JSON.parse(own.stdout).room.branch, "feat/a");
    for (const [cwd, env, extra] of [[one, alice, []], [two, bob, ["--branch", "dev"]]] as const) {
      const who = ok(
        await runCli(["who", "--json", "--repo", "lobby", ...extra], { cwd, env }),
        "who",
      );
      assert.deepEqual(JSON.parse(who.stdout).room, { repo: "lobby", branch: "main" });
    }
    ok(await runCli(["post", "HI", "--repo", "lobby"], { cwd: two, env: bob }), "bob joins");
    const posted = ok(
      await runCli([
        "post",
        "NOTE",
        "hello lobby",
        "--to",
        "bob-lobbybb2",
        "--repo",
        "lobby",
        "--json",
      ], {
        cwd: one,
        env: alice,
      }),
      "post",
    );
    const id = JSON.parse(posted.stdout).id;
    const seen = ok(
      await runCli(["tail", "--json", "--repo", "lobby", "--since", "5m"], { cwd: two, env: bob }),
      "tail",
    );
    assert.ok(jsonLines(seen.stdout).some((e) => e.id === id), seen.stdout);
    const inbox = ok(
      await runCli(["inbox", "--json", "--repo", "lobby"], { cwd: two, env: bob }),
      "inbox",
    );
    assert.deepEqual(jsonLines(inbox.stdout).map((e) => e.id), [id]);
    const elsewhere = ok(await runCli(["inbox", "--json"], { cwd: two, env: bob }), "own inbox");
    assert.equal(elsewhere.stdout, "", "the checkout's own room is another room");
    for (const [cwd, env] of [[one, alice], [two, bob]] as const) {
      await runCli(["leave", "--repo", "lobby"], { cwd, env });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("welcome pins one WELCOME in the lobby, replacing the previous one, with no expiry", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111", "alice");
  const first = ok(await a.run(["welcome"]), "welcome");
  const [, firstId] = first.stdout.match(
    /^welcome pinned to lobby \(no expiry\); entry (\d+-\d+)(?:, replacing \d+-\d+)?\n$/,
  )!;
  const second = ok(await a.run(["welcome"]), "again");
  const [, secondId] = second.stdout.match(
    new RegExp(
      `^welcome pinned to lobby \\(no expiry\\); entry (\\d+-\\d+), replacing ${firstId}\n$`,
    ),
  )!;
  const third = JSON.parse(ok(await a.run(["welcome", "--json"]), "--json").stdout);
  assert.deepEqual(third, { id: third.id, replaced: secondId });
  const tail = ok(
    await a.run(["tail", "--repo", "lobby", "--type", "WELCOME", "--json", "--count", "5000"]),
    "tail",
  );
  const welcomes = jsonLines(tail.stdout);
  assert.deepEqual(welcomes.map((e) => e.id), [third.id], "exactly one WELCOME");
  assert.match(String((welcomes[0]!.payload as { message: string }).message), /lobby/);
  assert.deepEqual(await roomKeyList(repo), [], "welcome writes only to the lobby");
  await withRedis(async (redis) => {
    assert.equal(await redis.call(["PTTL", LOBBY_KEYS.pinnedWelcome]), -1);
    const copy = JSON.parse(await redis.call(["GET", LOBBY_KEYS.pinnedWelcome]) as string);
    assert.equal(copy.id, third.id);
  });
});

Deno.test("messaging commands reject bad input with exit 2 and one line, writing nothing", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111", "alice");
  const lobbyBefore = await withRedis(async (redis) => [
    await redis.call(["GET", LOBBY_KEYS.pinnedWelcome]),
    await redis.call(["XLEN", LOBBY_KEYS.events]),
  ]);
  const cases: [string[], RegExp][] = [
    [["inbox", "now"], /^error: too many arguments: inbox takes no arguments/],
    [["inbox", "--count", "0"], /^error: --count must be between 1 and 1000, got 0;/],
    [["inbox", "--count", "1001"], /--count must be between 1 and 1000, got 1001/],
    [["inbox", "--count", "many"], /--count must be a non-negative whole number, got "many"/],
    [["inbox", "--unread"], /^error: unknown flag --unread; run 'agentroom inbox --help'\n$/],
    [["ask"], /^error: missing argument: ask takes <message>; run 'agentroom ask --help'\n$/],
    [["ask", "a", "b", "--to", "bob"], /^error: too many arguments: ask takes <message>/],
    [["ask", "q"], /^error: missing --to <agent>; run 'agentroom ask --help'\n$/],
    [["ask", "q", "--to"], /^error: flag --to needs a value/],
    [
      ["ask", "q", "--to", "bob", "--timeout", "soon"],
      /--timeout must be a duration up to 24h \(90s, 10m\), got "soon"/,
    ],
    [["ask", "q", "--to", "bob", "--timeout", "25h"], /--timeout must be a duration up to 24h/],
    [["ask", "q", "--to", "bob", "--timeout", "0"], /--timeout must be a duration/],
    [["ask", "q", "--to", "bob", "--timeout", "0s"], /^error: --timeout must be greater than 0;/],
    [["ask", "q", "--to", "bob", "--wait", "1m"], /^error: unknown flag --wait/],
    [["reply"], /^error: missing argument: reply takes <ask-id> <message>/],
    [["reply", "1-0"], /^error: missing argument: reply takes <ask-id> <message>/],
    [["reply", "1-0", "a", "b"], /^error: too many arguments: reply takes <ask-id> <message>/],
    [["reply", "last", "a"], /^error: ask id must be a stream id like 1763700000000-0, got "last"/],
    [["reply", "1-0-0", "a"], /ask id must be a stream id/],
    [
      ["reply", "1-0", "a", "--to", "bob"],
      /^error: unknown flag --to; run 'agentroom reply --help'\n$/,
    ],
    [["wait", "now"], /^error: too many arguments: wait takes no arguments/],
    [["wait", "--timeout", "soon"], /^error: --timeout must be a duration up to 24h/],
    [["wait", "--timeout", "25h"], /--timeout must be a duration up to 24h/],
    [["wait", "--timeout"], /^error: flag --timeout needs a value/],
    [["wait", "--from", "bob"], /^error: unknown flag --from; run 'agentroom wait --help'\n$/],
    [["welcome", "again"], /^error: too many arguments: welcome takes no arguments/],
    [["welcome", "--force"], /^error: unknown flag --force; run 'agentroom welcome --help'\n$/],
  ];
  for (const [args, pattern] of cases) {
    const r = await a.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one line: ${args.join(" ")}`);
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.deepEqual(await roomKeyList(repo), [], "nothing was written to the room");
  const lobbyAfter = await withRedis(async (redis) => [
    await redis.call(["GET", LOBBY_KEYS.pinnedWelcome]),
    await redis.call(["XLEN", LOBBY_KEYS.events]),
  ]);
  assert.deepEqual(lobbyAfter, lobbyBefore, "nor to the lobby");
});

Deno.test("messaging commands with Redis unreachable exit 1 with one line", async () => {
  const url = `redis://127.0.0.1:${closedPort()}`;
  const commands = [
    ["inbox"],
    ["inbox", "--all"],
    ["ask", "q", "--to", "bob"],
    ["reply", "1-0", "x"],
    ["wait"],
    ["wait", "--to-me", "--timeout", "1s"],
    ["welcome"],
  ];
  for (const args of commands) {
    const r = await runCli(args, {
      env: { AGENTROOM_REDIS_URL: url, REPO_ID: "x", AGENTROOM_SESSION_ID: "s" },
      deadlineMs: 5_000,
    });
    assert.equal(r.code, 1, args.join(" "));
    assert.match(
      r.stderr,
      /^error: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*start redis-server/,
      args.join(" "),
    );
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
});
