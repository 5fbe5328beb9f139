/**
 * The pending-reply ledger's re-pings and escalation, with short backoffs:
 * each step happens exactly once however many processes sweep at once; the
 * MCP server sweeps while it runs.
 */
import assert from "node:assert/strict";
import { agent, ok, runCli } from "../support/cli.ts";
import { startMcp } from "../support/mcp.ts";
import { until } from "../support/poll.ts";
import { uniqueRepo } from "../support/redis.ts";

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("pending --sweep: two re-pings then one escalation to the lobby, exactly once each, under concurrent sweepers", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "NOTE", "here"]), "bob joins");
  const sent = JSON.parse(
    ok(
      await alice.run([
        "post",
        "REVIEW",
        "PR 12",
        "--to",
        "bob",
        "--expect-reply",
        "--within",
        "50ms",
        "--json",
      ]),
      "send",
    ).stdout,
  );
  const env = { AGENTROOM_PENDING_BACKOFF: "50ms,50ms" };
  await until("the entry is escalated", async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(() => alice.run(["pending", "--sweep", "--json"], { env })),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const ledger = JSON.parse(ok(await alice.run(["pending", "--json"]), "pending").stdout);
    return ledger.pending[0]?.state === "escalated" ? true : undefined;
  }, 10_000);
  // more sweeps change nothing
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(
      JSON.parse(ok(await alice.run(["pending", "--sweep", "--json"], { env }), "again").stdout),
      { repinged: [], escalated: [] },
    );
  }
  const reminders = jsonLines(
    ok(await bob.run(["tail", "--json", "--type", "REMINDER"]), "tail").stdout,
  );
  assert.deepEqual(
    reminders.map((e) => [e.to, e.reply_to, (e.payload as { attempt: number }).attempt]),
    [["bob-bbbb2222", sent.id, 1], ["bob-bbbb2222", sent.id, 2]],
  );
  const lobby = jsonLines(
    ok(
      await runCli([
        "tail",
        "--json",
        "--repo",
        "lobby",
        "--type",
        "ESCALATION",
        "--count",
        "1000",
      ]),
      "lobby",
    )
      .stdout,
  ).filter((e) => (e.payload as { unanswered: string }).unanswered === sent.id);
  assert.equal(lobby.length, 1);
  assert.deepEqual(lobby[0]!.payload, {
    unanswered: sent.id,
    type: "REVIEW",
    to: "bob-bbbb2222",
    room: `${repo}:main`,
    reminders: 2,
  });
  // bob's reminders are in his inbox, correlated
  const inbox = jsonLines(ok(await bob.run(["inbox", "--json"]), "inbox").stdout);
  assert.deepEqual(inbox.map((e) => e.type), ["REVIEW", "REMINDER", "REMINDER"]);
});

Deno.test("pending --sweep: escalates to a named agent; a reply before that stops the re-pings", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const carol = agent(repo, "cccc3333", "carol");
  ok(await bob.run(["post", "NOTE", "here"]), "bob");
  ok(await carol.run(["post", "NOTE", "here"]), "carol");
  const env = { AGENTROOM_PENDING_BACKOFF: "1ms", AGENTROOM_PENDING_ESCALATE: "carol" };
  const a = JSON.parse(
    ok(
      await alice.run([
        "post",
        "Q",
        "a?",
        "--to",
        "bob",
        "--expect-reply",
        "--within",
        "1ms",
        "--json",
      ]),
      "a",
    )
      .stdout,
  );
  const b = JSON.parse(
    ok(
      await alice.run([
        "post",
        "Q",
        "b?",
        "--to",
        "bob",
        "--expect-reply",
        "--within",
        "1h",
        "--json",
      ]),
      "b",
    )
      .stdout,
  );
  ok(await bob.run(["post", "A", "b!", "--to", "alice", "--reply-to", b.id]), "reply b");
  await until("a is escalated", async () => {
    const r = JSON.parse(
      ok(await alice.run(["pending", "--sweep", "--json"], { env }), "sweep").stdout,
    );
    return r.escalated.includes(a.id) ? true : undefined;
  });
  const escalations = jsonLines(ok(await carol.run(["inbox", "--json"]), "carol inbox").stdout);
  assert.deepEqual(
    escalations.map((e) => [e.type, (e.payload as { unanswered: string }).unanswered]),
    [[
      "ESCALATION",
      a.id,
    ]],
  );
  const ledger = JSON.parse(ok(await alice.run(["pending", "--json"]), "pending").stdout);
  assert.deepEqual(ledger.pending.map((e: { id: string; state: string }) => [e.id, e.state]), [[
    a.id,
    "escalated",
  ]]);
});

Deno.test("pending --sweep: a bad backoff is a usage error", async () => {
  const alice = agent(uniqueRepo(), "aaaa1111", "alice");
  const r = await alice.run(["pending", "--sweep"], {
    env: { AGENTROOM_PENDING_BACKOFF: "30s,soon" },
  });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: AGENTROOM_PENDING_BACKOFF must be durations like 30s,60s,120s,240s/,
  );
});

Deno.test("mcp: the server sweeps its agent's ledger while it runs", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "NOTE", "here"]), "bob");
  const alice = await startMcp(["--agent", "alice", "--repo", repo, "--branch", "main"], {
    AGENTROOM_SESSION_ID: "sess-alice",
    AGENTROOM_PENDING_SWEEP_MS: "100",
    AGENTROOM_PENDING_BACKOFF: "1ms",
  });
  try {
    const sent = await alice.ok("send", {
      to: "bob",
      message: "?",
      expect_reply: true,
      within: "1ms",
    });
    const reminder = await until("a REMINDER from alice's server", async () => {
      const r = jsonLines(
        ok(await bob.run(["tail", "--json", "--type", "REMINDER"]), "tail").stdout,
      );
      return r[0];
    }, 10_000);
    assert.equal(reminder.reply_to, sent.id);
  } finally {
    await alice.close();
  }
});
