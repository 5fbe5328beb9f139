/** The rate gate on `post` (and so on the MCP `send` tool): observe, enforce, off, bad settings. */
import assert from "node:assert/strict";
import { roomKeys } from "../../src/keys.ts";
import { agent, ok } from "../support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "../support/redis.ts";

async function audit(repo: string): Promise<string[][]> {
  return await withRedis(async (redis) => {
    const reply = await redis.call([
      "XRANGE",
      roomKeys({ repo, branch: "main" }).rateAudit,
      "-",
      "+",
    ]);
    return (reply as [string, string[]][]).map(([, fields]) => fields);
  });
}

Deno.test("rate gate: observe delivers and audits, enforce refuses, off does not count", async () => {
  const repo = uniqueRepo();
  const bob = agent(repo, "bbbb2222", "bob");
  ok(await bob.run(["post", "NOTE", "here"]), "bob joins");
  const alice = agent(repo, "aaaa1111", "alice");
  const env = { AGENTROOM_RATE_LIMIT: "2/1m" };
  for (const n of [1, 2]) {
    const r = ok(await alice.run(["post", "NOTE", `m${n}`, "--to", "bob"], { env }), `send ${n}`);
    assert.equal(r.stderr, "");
  }
  const third = ok(await alice.run(["post", "NOTE", "m3", "--to", "bob"], { env }), "third");
  assert.equal(
    third.stderr,
    "warning: rate gate: 3 sends to bob-bbbb2222 within 1m, over the limit of 2 (audited); " +
      "delivered (observe mode)\n",
  );
  // another target has its own count
  assert.equal(ok(await alice.run(["post", "NOTE", "all"], { env }), "broadcast").stderr, "");

  const refused = await alice.run(["post", "NOTE", "m4", "--to", "bob"], {
    env: { ...env, AGENTROOM_RATE_GATE: "enforce" },
  });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: rate gate: refused: 4 sends to bob-bbbb2222 within 1m/);
  const flag = await alice.run(["post", "NOTE", "m5", "--to", "bob", "--rate-gate", "enforce"], {
    env,
  });
  assert.equal(flag.code, 1);
  const off = ok(
    await alice.run(["post", "NOTE", "m6", "--to", "bob", "--rate-gate", "off"], { env }),
    "off",
  );
  assert.equal(off.stderr, "");

  const tail = ok(await bob.run(["tail", "--json", "--from", "alice"]), "tail").stdout;
  const payloads = tail.trim().split("\n").map((l) => JSON.parse(l).payload);
  assert.deepEqual(payloads, ["m1", "m2", "m3", "all", "m6"]);
  const entries = await audit(repo);
  assert.deepEqual(entries.map((f) => [f[f.indexOf("count") + 1], f[f.indexOf("mode") + 1]]), [
    ["3", "observe"],
    ["4", "enforce"],
    ["5", "enforce"],
  ]);
});

Deno.test("rate gate: a bad mode or limit is a usage error and writes nothing", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--rate-gate", "maybe"], {}, /^error: rate gate must be observe, enforce or off/],
    [[], { AGENTROOM_RATE_GATE: "strict" }, /^error: rate gate must be observe, enforce or off/],
    [
      [],
      { AGENTROOM_RATE_LIMIT: "lots" },
      /^error: AGENTROOM_RATE_LIMIT must be <sends>\/<duration>/,
    ],
    [[], { AGENTROOM_RATE_LIMIT: "0/1m" }, /^error: AGENTROOM_RATE_LIMIT must be/],
    [[], { AGENTROOM_RATE_LIMIT: "5/2d" }, /^error: AGENTROOM_RATE_LIMIT must be/],
  ];
  for (const [flags, env, expected] of cases) {
    const r = await alice.run(["post", "NOTE", "x", ...flags], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, expected);
  }
  assert.equal(await roomKeyCount(repo), 0);
});
