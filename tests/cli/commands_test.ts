import assert from "node:assert/strict";
import { closedPort, shared, uniqueRepo } from "../support/redis.ts";
import { COMMANDS } from "../../src/cli/main.ts";
import { agent, runCli } from "../support/cli.ts";

Deno.test("who lists live agents with (you), --json, and leave clears the session", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const empty = await alice.run(["who"]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /^\(nobody here; absence from this list is no proof/);
  await alice.run(["post", "STATUS", '{"role":"reviewer"}']);
  await alice.run(["post", "NOTE", "x", "--agent", "helper"]);
  await bob.run(["post", "NOTE", "\u001b[31mhi"]);
  const who = await bob.run(["who"]);
  const lines = who.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^alice-aaaa1111  reviewer  \(expires in/);
  assert.match(lines[1]!, /^bob-bbbb2222  \(expires in .*\)  \(you\)$/);
  assert.match(lines[2]!, /^helper-aaaa1111  \(expires in/);
  const json = JSON.parse((await alice.run(["who", "--json"])).stdout);
  assert.deepEqual(json.room, { repo, branch: "main" });
  assert.deepEqual(
    json.agents.map((a: { agent_id: string; you: boolean }) => [a.agent_id, a.you]),
    [
      ["alice-aaaa1111", true],
      ["bob-bbbb2222", false],
      ["helper-aaaa1111", false],
    ],
  );
  assert.ok(json.agents.every((a: { ttl_ms: number }) => a.ttl_ms > 0));
  const left = await alice.run(["leave"]);
  assert.equal(left.code, 0, left.stderr);
  assert.equal(left.stdout, "cleared presence for session aaaa1111 (2 entries)\n");
  const after = JSON.parse((await bob.run(["who", "--json"])).stdout);
  assert.deepEqual(after.agents.map((a: { agent_id: string }) => a.agent_id), ["bob-bbbb2222"]);
  const again = JSON.parse((await alice.run(["leave", "--json"])).stdout);
  assert.deepEqual(again, { session_id: "aaaa1111", cleared: [] });
});

Deno.test("--repo lobby reaches the one lobby room from any branch", async () => {
  const a = await runCli([
    "post",
    "HELLO",
    "from feature",
    "--repo",
    "lobby",
    "--branch",
    "feature-x",
  ], {
    env: { AGENTROOM_SESSION_ID: "lobby001" },
  });
  assert.equal(a.code, 0, a.stderr);
  const id = a.stdout.match(/entry (\S+)\)/)![1];
  const b = await runCli(["tail", "--json", "--repo", "lobby", "--since", "1m"], {
    env: { AGENTROOM_SESSION_ID: "lobby002", BRANCH_NAME: "other" },
  });
  assert.ok(b.stdout.split("\n").some((l) => l.includes(`"id":"${id}"`)), b.stdout);
  await runCli(["leave", "--repo", "lobby"], { env: { AGENTROOM_SESSION_ID: "lobby001" } });
  await runCli(["leave", "--repo", "lobby"], { env: { AGENTROOM_SESSION_ID: "lobby002" } });
});

Deno.test("the room comes from the git checkout when no repo is given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const top = `${dir}/${uniqueRepo("git")}`;
    await Deno.mkdir(`${top}/.git`, { recursive: true });
    await Deno.writeTextFile(`${top}/.git/HEAD`, "ref: refs/heads/feat/x\n");
    const r = await runCli(["who", "--json"], { cwd: top, env: { AGENTROOM_SESSION_ID: "s" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).room, { repo: top.split("/").pop(), branch: "feat/x" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every Redis command fails with exit 1 and one line when Redis is down", async () => {
  const url = `redis://127.0.0.1:${closedPort()}`;
  for (const args of [["post", "N"], ["tail"], ["tail", "--follow"], ["who"], ["leave"]]) {
    const r = await runCli(args, {
      env: { AGENTROOM_REDIS_URL: url, REPO_ID: "x" },
      deadlineMs: 5_000,
    });
    assert.equal(r.code, 1, args.join(" "));
    assert.match(
      r.stderr,
      /^error: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*start redis-server/,
    );
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1);
    assert.equal(r.stdout, "");
  }
});

Deno.test("who and leave reject extra arguments and unknown flags", async () => {
  const a = agent(uniqueRepo(), "s");
  for (
    const [args, pattern] of [
      [["who", "me"], /too many arguments: who takes no arguments/],
      [["leave", "now"], /too many arguments: leave takes no arguments/],
      [["who", "--everyone"], /unknown flag --everyone; run 'agentroom who --help'/],
      [["version", "x"], /too many arguments/],
    ] as [string[], RegExp][]
  ) {
    const r = await a.run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
});

Deno.test("version prints version, runtime, target; the executable's sha256 with --verbose", async () => {
  const meta = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const quick = JSON.parse((await runCli(["version", "--json"])).stdout);
  assert.equal(quick.version, meta.version);
  assert.equal("sha256" in quick, false, "no hashing without --verbose");
  for (const flag of ["--version", "-V"]) {
    const short = await runCli([flag]);
    assert.equal(short.code, 0, short.stderr);
    assert.equal(short.stdout, `agentroom ${meta.version}\n`);
  }
  const r = await runCli(["version", "--verbose", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.version, meta.version);
  assert.equal(info.deno, Deno.version.deno);
  assert.equal(info.target, Deno.build.target);
  assert.equal(info.executable, Deno.execPath());
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(Deno.execPath()));
  assert.equal(
    info.sha256,
    Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  const text = await runCli(["version"]);
  assert.doesNotMatch(text.stdout, /sha256/);
  assert.match(text.stdout, new RegExp(`^agentroom ${meta.version.replaceAll(".", "\\.")} `));
});

Deno.test("help: every command answers --help, 'help <cmd>' and '-h' with usage and an example", async () => {
  const root = await runCli(["--help"]);
  assert.equal(root.code, 0);
  assert.equal(root.stderr, "");
  const names = [...COMMANDS.map((c) => c.name), "help"];
  for (const name of names) {
    assert.match(root.stdout, new RegExp(`\\n  ${name} `), `${name} in the command list`);
    for (const args of [[name, "--help"], ["help", name], ["--repo", "x", name, "-h"]]) {
      const r = await runCli(args);
      const what = args.join(" ");
      assert.equal(r.code, 0, what);
      assert.match(r.stdout, new RegExp(`^Usage: agentroom ${name}\\b`, "m"), what);
      assert.match(r.stdout, new RegExp(`Examples:\\n  agentroom \\S`), what);
      assert.equal(r.stderr, "", what);
    }
  }
  const bare = await runCli([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /^error: missing command; run 'agentroom --help'\n$/);
  const unknown = await runCli(["help", "nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown help topic "nope"/);
});

Deno.test("REDIS_ADDR, --addr and REDIS_URL are honoured in the documented order", async () => {
  const repo = uniqueRepo();
  const addr = `${shared.host}:${shared.port}`;
  const down = `127.0.0.1:${closedPort()}`;
  const base = { AGENTROOM_REDIS_URL: "", REPO_ID: repo, AGENTROOM_SESSION_ID: "addr0001" };
  const viaEnv = await runCli(["post", "NOTE", "via REDIS_ADDR"], {
    env: { ...base, REDIS_ADDR: addr },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const viaFlag = await runCli(["post", "NOTE", "via --addr", "--addr", addr], {
    env: { ...base, REDIS_ADDR: down },
  });
  assert.equal(viaFlag.code, 0, viaFlag.stderr);
  const viaUrl = await runCli(["post", "NOTE", "via REDIS_URL"], {
    env: { ...base, REDIS_URL: shared.url, REDIS_ADDR: down },
  });
  assert.equal(viaUrl.code, 0, viaUrl.stderr);
  const flagWins = await runCli(["tail", "--json", "--redis", shared.url], {
    env: { ...base, AGENTROOM_REDIS_URL: `redis://${down}` },
  });
  assert.deepEqual(
    flagWins.stdout.trim().split("\n").map((l) => JSON.parse(l).payload),
    ["via REDIS_ADDR", "via --addr", "via REDIS_URL"],
  );
});
