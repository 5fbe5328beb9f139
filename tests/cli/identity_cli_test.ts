/**
 * One identity per harness session, as the CLI sees it: the harness's session
 * variables, read-only commands that leave no presence, and `who` hiding
 * anonymous entries.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sessionTokenOf } from "../../src/identity.ts";
import { ok, runCli } from "../support/cli.ts";
import { roomKeyCount, uniqueRepo } from "../support/redis.ts";

const CLAUDE = "3f6c2a9e-8b41-4d7a-9c55-0e1f2a3b4c5d";
// two Codex thread ids (UUIDv7) started in the same minute: same first 13 characters
const CODEX_A = "0199a213-81c0-7800-8aa1-bbab2a035a53";
const CODEX_B = "0199a213-81c0-7f3e-9b20-41d5e6f70812";

function room(repo: string): Record<string, string> {
  return { REPO_ID: repo, BRANCH_NAME: "main" };
}

async function whoJson(repo: string, extra: string[] = []) {
  const r = ok(await runCli(["who", "--json", ...extra], { env: room(repo) }), "who");
  return JSON.parse(r.stdout) as { agents: { agent_id: string }[]; hidden: number };
}

Deno.test("the CLI takes its session from each harness's variable, in the documented order", async () => {
  const repo = uniqueRepo("ids");
  const cases: [Record<string, string>, string][] = [
    [{ CLAUDE_CODE_SESSION_ID: CLAUDE }, sessionTokenOf(CLAUDE)],
    [{ CODEX_THREAD_ID: CODEX_A }, sessionTokenOf(CODEX_A)],
    [{ AGENTROOM_SESSION_ID: "pi-7", CLAUDE_CODE_SESSION_ID: CLAUDE }, "pi-7"],
    [{ CLAUDE_CODE_SESSION_ID: CLAUDE, CLAUDE_SESSION_ID: "older" }, sessionTokenOf(CLAUDE)],
  ];
  for (const [env, token] of cases) {
    const r = ok(
      await runCli(["post", "NOTE", "hello", "--agent", "dev", "--json"], {
        env: { ...room(repo), ...env },
      }),
      "post",
    );
    assert.equal(JSON.parse(r.stdout).agent_id, `dev-${token}`, JSON.stringify(env));
  }
});

Deno.test("two Codex sessions started in the same minute are two agents: the second cannot take the first's claim", async () => {
  const repo = uniqueRepo("codex");
  ok(await runCli(["register", "FIX_BUG", "fix a bug"], { env: room(repo) }), "register");
  const posted = ok(
    await runCli(["post", "FIX_BUG", '{"title":"x"}', "--json"], { env: room(repo) }),
    "post",
  );
  const task = JSON.parse(posted.stdout).id;
  ok(
    await runCli(["claim", task], { env: { ...room(repo), CODEX_THREAD_ID: CODEX_A } }),
    "claim A",
  );
  const second = await runCli(["claim", task], {
    env: { ...room(repo), CODEX_THREAD_ID: CODEX_B },
  });
  assert.equal(second.code, 3, second.stderr);
  const strict = await runCli(["done", task, "--strict"], {
    env: { ...room(repo), CODEX_THREAD_ID: CODEX_B },
  });
  assert.equal(strict.code, 3, strict.stderr);
});

Deno.test("read-only commands leave no presence; who hides anonymous entries unless --all", async () => {
  const repo = uniqueRepo("ro");
  // something to read, written by a labelled agent
  ok(
    await runCli(["post", "NOTE", '{"role":"builder","text":"hi"}', "--agent", "builder"], {
      env: { ...room(repo), AGENTROOM_SESSION_ID: "b1" },
    }),
    "post",
  );
  const before = await roomKeyCount(repo);
  // three shells without a session variable run read-only commands
  for (
    const args of [
      ["tail"],
      ["who"],
      ["status"],
      ["guard", "path:src/a.ts"],
      ["catalog"],
      ["open"],
      ["inbox", "--all"],
    ]
  ) {
    ok(await runCli(args, { env: room(repo) }), args.join(" "));
  }
  assert.equal(await roomKeyCount(repo), before, "no key was added by a read");
  assert.deepEqual((await whoJson(repo)).agents.map((a) => a.agent_id), ["builder-b1"]);
  // an anonymous writer is present, but hidden from `who` unless asked
  ok(
    await runCli(["post", "NOTE", "anon"], { env: { ...room(repo), AGENTROOM_SESSION_ID: "a1" } }),
    "anon",
  );
  const hidden = await whoJson(repo);
  assert.deepEqual(hidden.agents.map((a) => a.agent_id), ["builder-b1"]);
  assert.equal(hidden.hidden, 1);
  const all = await whoJson(repo, ["--all"]);
  assert.deepEqual(all.agents.map((a) => a.agent_id).sort(), ["builder-b1", "cli-a1"]);
  const text = ok(await runCli(["who"], { env: room(repo) }), "who");
  assert.match(text.stdout, /\(1 anonymous role-less entry hidden; --all shows them\)/);
});
