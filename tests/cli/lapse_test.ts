import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { agent, ok } from "../support/cli.ts";
import { hookOutput, payload, runHook } from "../support/hook.ts";
import { until } from "../support/poll.ts";
import { uniqueRepo, withRedis } from "../support/redis.ts";

async function events(repo: string): Promise<{ type: string; to: string }[]> {
  return await withRedis(async (redis) => {
    const entries = await redis.call([
      "XRANGE",
      roomKeys({ repo, branch: "main" }).events,
      "-",
      "+",
    ]) as [string, string[]][];
    return entries.map(([, f]) => ({
      type: f[f.indexOf("type") + 1]!,
      to: f[f.indexOf("to") + 1]!,
    }));
  });
}

async function serverNow(): Promise<number> {
  return await withRedis(async (redis) => {
    const [s, us] = (await redis.call(["TIME"]) as string[]).map(Number);
    return s! * 1000 + Math.floor(us! / 1000);
  });
}

/** bob (session bbbb2222) holds a claim, a lease and an active window that all lapse at once. */
async function lapsedHolds(repo: string): Promise<void> {
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["register", "FIX", "fix it"]), "register");
  const task = JSON.parse(ok(await bob.run(["post", "FIX", "x", "--json"]), "post").stdout).id;
  ok(await bob.run(["claim", task, "--ttl", "300ms"]), "claim");
  ok(
    await bob.run(["lease", "acquire", "path:src/db", "--purpose", "p", "--ttl", "300ms"]),
    "lease",
  );
  ok(
    await bob.run(["window", "request", "path:docs", "--purpose", "w", "--ttl", "300ms"]),
    "window",
  );
  const start = await serverNow();
  await until(
    "the holds lapsed on the server clock",
    async () => (await serverNow()) > start + 400,
  );
}

Deno.test("lapse notices: 8 concurrent observers write exactly one CLAIM_LAPSED, LEASE_EXPIRED and WINDOW_EXPIRED", async () => {
  const repo = uniqueRepo();
  await lapsedHolds(repo);
  const observers = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        agent(repo, `obs${i}0000`, `o${i}`).spawn([i % 2 === 0 ? "status" : "who"], {
          deadlineMs: 60_000,
        }),
    ),
  );
  for (const r of observers) assert.equal(r.code, 0, r.stderr);
  const notices = (await events(repo)).filter((e) =>
    ["CLAIM_LAPSED", "LEASE_EXPIRED", "WINDOW_EXPIRED"].includes(e.type)
  );
  assert.deepEqual(notices.map((e) => e.type).sort(), [
    "CLAIM_LAPSED",
    "LEASE_EXPIRED",
    "WINDOW_EXPIRED",
  ]);
  assert.ok(notices.every((e) => e.to === "bob-bbbb2222"));
  // bob's next hook shows all three in its inbox section
  const result = await runHook(
    "user-prompt-submit",
    payload("claude_user_prompt_submit", { session_id: "bbbb2222", prompt: "continue" }),
    {
      env: {
        REPO_ID: repo,
        BRANCH_NAME: "main",
        AGENTROOM_AGENT: "bob",
        AGENTROOM_SESSION_ID: "bbbb2222",
      },
    },
  );
  const { context } = hookOutput(result, "UserPromptSubmit");
  assert.match(context, /== messages for you \(3 unread;/);
  for (const type of ["CLAIM_LAPSED", "LEASE_EXPIRED", "WINDOW_EXPIRED"]) {
    assert.match(context, new RegExp(type));
  }
  // a later sweep writes nothing more
  ok(await agent(repo, "cccc3333", "carol").run(["status"]), "status");
  assert.equal(
    (await events(repo)).filter((e) => e.type.endsWith("_LAPSED") || e.type.endsWith("_EXPIRED"))
      .length,
    3,
  );
});

Deno.test("lapse notices: the owner's own hook observes the lapse and shows it", async () => {
  const repo = uniqueRepo();
  await lapsedHolds(repo);
  const result = await runHook(
    "user-prompt-submit",
    payload("claude_user_prompt_submit", { session_id: "bbbb2222", prompt: "go on" }),
    {
      env: {
        REPO_ID: repo,
        BRANCH_NAME: "main",
        AGENTROOM_AGENT: "bob",
        AGENTROOM_SESSION_ID: "bbbb2222",
      },
    },
  );
  const { context } = hookOutput(result, "UserPromptSubmit");
  assert.match(context, /== messages for you \(3 unread;/);
});
