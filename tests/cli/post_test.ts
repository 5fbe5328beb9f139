import assert from "node:assert/strict";
import { roomKeyCount, uniqueRepo } from "../support/redis.ts";
import { agent, runCli } from "../support/cli.ts";

Deno.test("post publishes, prints the entry and --json gives the event", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const text = await alice.run(["post", "NOTE", "tests are green"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^posted NOTE as alice-aaaa1111 \(entry \d+-\d+\)\n$/);
  assert.equal(text.stderr, "");
  const json = await alice.run([
    "--json",
    "post",
    "STATUS",
    '{"role":"reviewer","working_on":"auth"}',
  ]);
  assert.equal(json.code, 0, json.stderr);
  const event = JSON.parse(json.stdout);
  assert.equal(event.type, "STATUS");
  assert.deepEqual(event.payload, { role: "reviewer", working_on: "auth" });
  assert.equal(event.agent_id, "alice-aaaa1111");
  assert.equal(typeof event.timestamp, "number");
  const who = await alice.run(["who"]);
  assert.match(who.stdout, /alice-aaaa1111  reviewer: auth  \(expires in 1[45]m\d+s\)  \(you\)/);
});

Deno.test("post accepts global flags after the command and --flag=value", async () => {
  const repo = uniqueRepo();
  const r = await runCli([
    "post",
    "NOTE",
    "hi",
    `--repo=${repo}`,
    "--branch",
    "main",
    "--agent",
    "zed",
  ], {
    env: { AGENTROOM_SESSION_ID: "zzzz0000" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /posted NOTE as zed-zzzz0000/);
  const t = await runCli(["--repo", repo, "--branch", "main", "tail", "--json"], {
    env: { AGENTROOM_SESSION_ID: "zzzz0000" },
  });
  assert.equal(JSON.parse(t.stdout.trim()).payload, "hi");
});

Deno.test("post --to resolves a live handle, warns on no match, fails on ambiguity", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  await agent(repo, "bbbb2222", "builder").run(["who"]);
  await agent(repo, "bbbb2222", "builder").run(["post", "HI"]);
  await agent(repo, "cccc3333", "builder").run(["post", "HI"]);
  await agent(repo, "dddd4444", "reviewer").run(["post", "HI"]);
  const ok = await alice.run(["post", "Q", "ready?", "--to", "reviewer", "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).to, "reviewer-dddd4444");
  const none = await alice.run(["post", "Q", "x", "--to", "ghost"]);
  assert.equal(none.code, 0);
  assert.equal(none.stderr, "");
  assert.match(none.stdout, /; no live agent is ghost: kept in the mailbox of handle ghost, /);
  const bad = await alice.run(["post", "Q", "x", "--to", "not a handle"]);
  assert.equal(bad.code, 0);
  assert.match(
    bad.stderr,
    /^warning: no live agent matches --to "not a handle" and it is not a valid handle; posting verbatim\n$/,
  );
  const amb = await alice.run(["post", "Q", "x", "--to", "builder"]);
  assert.equal(amb.code, 1);
  assert.match(amb.stderr, /ambiguous; candidates: builder-bbbb2222, builder-cccc3333/);
  const exact = await alice.run(["post", "Q", "x", "--to", "builder-cccc3333"]);
  assert.equal(exact.stderr, "", "an exact live id is not warned about");
});

Deno.test("post bad input: one error line, documented exit code, nothing written", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111");
  const cases: [string[], number, RegExp][] = [
    [
      ["post"],
      2,
      /^error: missing argument: post takes <type> \[payload\]; run 'agentroom post --help'\n$/,
    ],
    [["post", ""], 1, /^error: Cannot publish event: type is empty\n$/],
    [["post", "   "], 1, /type is empty/],
    [["post", "has space"], 1, /whitespace or control characters/],
    [["post", "NOTE", "a", "b"], 2, /^error: too many arguments: post takes <type> \[payload\]/],
    [
      ["post", "NOTE", "x".repeat(17 * 1024)],
      1,
      /^error: Cannot publish event: payload is 17410 bytes, max 16384 bytes\n$/,
    ],
    [["post", "NOTE", "--nope"], 2, /^error: unknown flag --nope; run 'agentroom post --help'\n$/],
    [["post", "NOTE", "--to"], 2, /^error: flag --to needs a value/],
    [["post", "NOTE", "--reply-to", "garbage"], 1, /Invalid event id "garbage"/],
    [["post", "NOTE", "x", "--agent", "a".repeat(101)], 1, /longer than 100 characters/],
    [
      ["postt", "NOTE"],
      2,
      /^error: unknown command "postt"; did you mean 'post'\?; run 'agentroom --help'\n$/,
    ],
    [["post", "NOTE", "--redis", "http://nope"], 2, /^error: .*redis/i],
    [["post", "NOTE", "--redis", "redis://host:99999"], 2, /port/i],
    [["post", "NOTE", "--addr", "no-port-here:"], 2, /^error: /],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await a.run(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one line for ${args.join(" ")}`);
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.equal(await roomKeyCount(repo), 0, "nothing was written to Redis");
});

Deno.test("post with Redis unreachable fails with exit 1 naming the address", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const r = await runCli(["post", "NOTE", "x"], {
    env: {
      AGENTROOM_REDIS_URL: `redis://user:secret@127.0.0.1:${port}`,
      REPO_ID: "x",
      AGENTROOM_SESSION_ID: "s",
    },
    deadlineMs: 5_000,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`^error: Cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}`),
  );
  assert.doesNotMatch(r.stderr, /secret/);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1);
});

Deno.test("post against a server that accepts and never answers gives up by its deadline", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const r = await runCli(["post", "NOTE", "x"], {
      env: {
        AGENTROOM_REDIS_URL: `redis://127.0.0.1:${port}`,
        REPO_ID: "x",
        AGENTROOM_SESSION_ID: "s",
      },
      deadlineMs: 8_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: .*127\\.0\\.0\\.1:${port}`));
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});
