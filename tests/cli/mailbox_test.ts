import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { agent, ok } from "../support/cli.ts";
import { hookOutput, payload, spawnHook } from "../support/hook.ts";
import { closedPort, uniqueRepo, withRedis } from "../support/redis.ts";

/** Number of entries in a mailbox, and its TTL, read straight from Redis. */
async function mailboxState(repo: string, name: string): Promise<{ len: number; ttl: number }> {
  return await withRedis(async (redis) => {
    const key = roomKeys({ repo, branch: "main" }).mailbox(name);
    const [len, ttl] = await redis.pipeline([["XLEN", key], ["PTTL", key]]);
    return { len: len as number, ttl: ttl as number };
  });
}

function sessionStart(repo: string, session: string, handle: string) {
  return spawnHook(
    "session-start",
    payload("claude_session_start", { session_id: session, cwd: "/tmp" }),
    { env: { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_AGENT: handle } },
  );
}

Deno.test("mailbox: a message to an absent handle waits and reaches the first session that joins under it (across processes)", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const sent = ok(
    await alice.spawn(["post", "QUESTION", "who owns src/db?", "--to", "builder"]),
    "post",
  );
  assert.match(
    sent.stdout,
    /^posted QUESTION as alice-aaaa1111 \(entry \d+-\d+\); no live agent is builder: kept in the mailbox of handle builder, delivered to the first agent that joins as builder\n$/,
  );
  assert.equal(sent.stderr, "");
  const kept = await mailboxState(repo, "builder");
  assert.equal(kept.len, 1);
  assert.ok(kept.ttl > 0, "the mailbox lives as long as the room");

  // the first session under the handle builder: its session-start digest shows it
  const first = hookOutput(
    await sessionStart(repo, "b1b1b1b1-0000-4000-8000-000000000001", "builder"),
    "SessionStart",
  );
  assert.match(first.context, /== messages for you \(1 unread;/);
  assert.match(first.context, /who owns src\/db\?/);
  assert.equal((await mailboxState(repo, "builder")).len, 0, "moved out of the mailbox");

  // a second session under the same handle got nothing: the first one took it
  const second = hookOutput(
    await sessionStart(repo, "b2b2b2b2-0000-4000-8000-000000000002", "builder"),
    "SessionStart",
  );
  assert.doesNotMatch(second.context, /== messages for you/);
});

Deno.test("mailbox: a message to an exact agent id waits for that id, not for the handle", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.spawn(["post", "NOTE", "for zzzz only", "--to", "builder-zzzz9999"]), "post");
  // another session with the handle builder joins: it is not builder-zzzz9999
  const other = agent(repo, "yyyy8888", "builder");
  assert.equal(ok(await other.spawn(["inbox"]), "other").stdout, "(no unread messages)\n");
  assert.equal((await mailboxState(repo, "builder-zzzz9999")).len, 1);
  // the exact id joins (a fresh process) and reads it once
  const target = agent(repo, "zzzz9999", "builder");
  const read = ok(await target.spawn(["inbox"]), "target");
  assert.match(read.stdout, /for zzzz only/);
  assert.equal(ok(await target.run(["inbox"]), "again").stdout, "(no unread messages)\n");
});

Deno.test("mailbox: --json names the mailbox; a live handle gets no mailbox; Redis down is exit 1", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const kept = ok(await alice.run(["post", "NOTE", "x", "--to", "ghost", "--json"]), "ghost");
  assert.equal(JSON.parse(kept.stdout).mailbox, "ghost");
  ok(await agent(repo, "bbbb2222", "bob").run(["post", "HI"]), "bob joins");
  const live = ok(await alice.run(["post", "NOTE", "y", "--to", "bob", "--json"]), "bob");
  assert.equal(JSON.parse(live.stdout).mailbox, undefined);
  assert.equal(JSON.parse(live.stdout).to, "bob-bbbb2222");
  const down = await alice.run(["post", "NOTE", "z", "--to", "ghost"], {
    env: { AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}` },
  });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^error: /);
});

Deno.test("mailbox: tail --to-me shows a message kept for your handle", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  ok(await alice.run(["post", "QUESTION", "for the builder", "--to", "builder"]), "post");
  ok(await alice.run(["post", "NOTE", "for everyone"]), "broadcast");
  const builder = agent(repo, "b0b0b0b0", "builder");
  const mine = ok(await builder.run(["tail", "--to-me", "--json"]), "tail").stdout.trim().split(
    "\n",
  );
  assert.equal(mine.length, 1);
  assert.equal(JSON.parse(mine[0]!).payload, "for the builder");
});
