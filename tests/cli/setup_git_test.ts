/**
 * `agentroom setup git` and `agentroom guard --staged`, with a real git
 * repository, real commits through the installed pre-commit hook, and a real
 * Redis.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agent, baseEnv, ok, runCli } from "../support/cli.ts";
import { shared, uniqueRepo } from "../support/redis.ts";

async function git(cwd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** A throwaway git repository with one commit, bound to its own room. */
async function repository() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-git-" });
  const dir = join(root, "repo");
  await Deno.mkdir(join(dir, "src"), { recursive: true });
  const room = uniqueRepo("git");
  const env = {
    REPO_ID: room,
    BRANCH_NAME: "main",
    AGENTROOM_REDIS_URL: shared.url,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const must = async (args: string[], extra: Record<string, string> = {}) => {
    const r = await git(dir, args, { ...env, ...extra });
    assert.equal(r.code, 0, `git ${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  await must(["init", "-q", "-b", "main"]);
  await Deno.writeTextFile(join(dir, "src", "a.ts"), "a\n");
  await Deno.writeTextFile(join(dir, "src", "b.ts"), "b\n");
  await must(["add", "."]);
  await must(["commit", "-q", "-m", "init"]);
  return {
    root,
    dir,
    room,
    env,
    git: (args: string[], extra: Record<string, string> = {}) =>
      git(dir, args, { ...env, ...extra }),
    must,
    /** The CLI as the committing session `me`, in the repository. */
    cli: (args: string[], extra: Record<string, string> = {}) =>
      runCli(args, { cwd: dir, env: { ...env, AGENTROOM_SESSION_ID: "me-session", ...extra } }),
    commits: async () => Number((await must(["rev-list", "--count", "HEAD"])).stdout.trim()),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("the pre-commit guard refuses another agent's path, the bypass is audited, an existing hook is chained and restored", async () => {
  await using repo = await repository();
  const hooks = join(repo.dir, ".git", "hooks");
  const log = join(repo.root, "chained.log");
  const theirs = `#!/bin/sh\necho "lint ran" >> '${log}'\nexit 0\n`;
  await Deno.writeTextFile(join(hooks, "pre-commit"), theirs, { mode: 0o755 });

  const dry = ok(await repo.cli(["setup", "git", "--dry-run"]), "dry run");
  assert.match(dry.stdout, /^dry run: nothing written$/m);
  assert.equal(await Deno.readTextFile(join(hooks, "pre-commit")), theirs);

  const setup = ok(await repo.cli(["setup", "git"]), "setup git");
  assert.ok(setup.stdout.startsWith(`git pre-commit guard: ${join(hooks, "pre-commit")}\n`));
  assert.match(setup.stdout, /^\+.* guard --staged$/m);
  assert.match(
    setup.stdout,
    /^note: your pre-commit hook is kept as pre-commit\.agentroom-chained/m,
  );
  assert.equal(await Deno.readTextFile(join(hooks, "pre-commit.agentroom-chained")), theirs);
  const again = ok(await repo.cli(["setup", "git"]), "setup git again");
  assert.match(again.stdout, /^unchanged: agentroom's pre-commit guard is already installed$/m);

  // another agent leases src/a.ts; this session leases src/b.ts
  const other = agent(repo.room, "other-session", "other");
  const lease = JSON.parse(
    ok(
      await other.run(["lease", "acquire", "path:src/a.ts", "--purpose", "refactor", "--json"]),
      "other lease",
    ).stdout,
  );
  ok(await repo.cli(["lease", "acquire", "path:src/b.ts", "--purpose", "mine"]), "own lease");

  // a commit touching the other agent's path is refused, the file is not committed
  await Deno.writeTextFile(join(repo.dir, "src", "a.ts"), "a changed by sed -i\n");
  await Deno.writeTextFile(join(repo.dir, "src", "b.ts"), "b changed\n");
  await repo.must(["add", "src/a.ts", "src/b.ts"]);
  const me = { AGENTROOM_SESSION_ID: "me-session" };
  const refused = await repo.git(["commit", "-q", "-m", "touches a"], me);
  assert.notEqual(refused.code, 0, "git commit must fail");
  assert.equal(await repo.commits(), 1, "nothing committed");
  assert.match(refused.stdout + refused.stderr, /held: src\/a\.ts leased by other-/);
  assert.match(refused.stderr, /error: 1 staged path is held by another agent \(other-/);
  assert.match(refused.stderr, /AGENTROOM_GUARD_BYPASS=1 git commit/);
  assert.ok(!(refused.stdout + refused.stderr).includes("src/b.ts"), "own lease is no conflict");
  assert.equal(await Deno.readTextFile(log), "lint ran\n", "the chained hook ran first");

  const json = await repo.cli(["guard", "--staged", "--json"]);
  assert.equal(json.code, 3, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.safe, false);
  assert.equal(report.staged, 2);
  assert.deepEqual(report.held.map((h: { path: string }) => h.path), ["src/a.ts"]);
  assert.equal(report.held[0].holder, lease.owner);
  assert.equal(report.held[0].id, lease.id);

  // the explicit bypass commits and leaves an audit event naming paths and holders
  const bypassed = await repo.git(["commit", "-q", "-m", "touches a anyway"], {
    ...me,
    AGENTROOM_GUARD_BYPASS: "1",
  });
  assert.equal(bypassed.code, 0, bypassed.stderr);
  assert.match(
    bypassed.stderr,
    /warning: AGENTROOM_GUARD_BYPASS=1: committing 1 path held by other-/,
  );
  assert.equal(await repo.commits(), 2);
  const events = ok(
    await repo.cli(["tail", "--type", "GUARD_BYPASSED", "--json"]),
    "tail",
  ).stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(events.length, 1);
  assert.deepEqual(events[0].payload.holders, [lease.owner]);
  assert.equal(events[0].payload.check, "pre-commit");
  assert.deepEqual(events[0].payload.paths.map((p: { path: string }) => p.path), ["src/a.ts"]);
  assert.match(events[0].agent_id, /me-?session|^cli-/);

  // a commit of nothing held goes through without a word from the guard
  await Deno.writeTextFile(join(repo.dir, "src", "b.ts"), "b again\n");
  await repo.must(["add", "src/b.ts"]);
  const fine = await repo.git(["commit", "-q", "-m", "b"], me);
  assert.equal(fine.code, 0, fine.stderr);
  assert.equal(await repo.commits(), 3);

  // Redis unreachable: the commit goes through with a warning (fails open, like the hooks)
  await Deno.writeTextFile(join(repo.dir, "src", "b.ts"), "b offline\n");
  await repo.must(["add", "src/b.ts"]);
  const offline = await repo.git(["commit", "-q", "-m", "offline"], {
    ...me,
    AGENTROOM_REDIS_URL: "redis://127.0.0.1:1",
  });
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /agentroom: could not check the staged paths \(exit 1\)/);

  // uninstall restores the original hook exactly
  const removed = ok(await repo.cli(["setup", "git", "--uninstall"]), "uninstall");
  assert.match(removed.stdout, /^restored .*pre-commit from pre-commit\.agentroom-chained$/m);
  assert.equal(await Deno.readTextFile(join(hooks, "pre-commit")), theirs);
  await assert.rejects(
    Deno.stat(join(hooks, "pre-commit.agentroom-chained")),
    Deno.errors.NotFound,
  );
  const twice = ok(await repo.cli(["setup", "git", "--uninstall"]), "uninstall again");
  assert.match(twice.stdout, /^unchanged: no agentroom pre-commit hook here$/m);
});

Deno.test("setup git honours core.hooksPath; without a hook to chain, uninstall removes ours", async () => {
  await using repo = await repository();
  await repo.must(["config", "core.hooksPath", ".githooks"]);
  const setup = ok(await repo.cli(["setup", "git", "--json"]), "setup git");
  const report = JSON.parse(setup.stdout);
  const file = join(repo.dir, ".githooks", "pre-commit");
  assert.equal(report.file, file);
  assert.equal(report.chained, null);
  assert.ok(report.notes.some((n: string) => n.includes("core.hooksPath")), report.notes);
  const script = await Deno.readTextFile(file);
  assert.match(
    script,
    /^agentroom guard --staged$/m,
    "a committed hooks dir gets the PATH command",
  );
  assert.equal((await Deno.stat(file)).mode! & 0o111, 0o111);
  ok(await repo.cli(["setup", "git", "--uninstall"]), "uninstall");
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
});

Deno.test("guard --staged: usage errors exit 2, outside git exit 2, nothing staged is safe", async () => {
  await using repo = await repository();
  const safe = ok(await repo.cli(["guard", "--staged"]), "nothing staged");
  assert.equal(safe.stdout, "safe: 0 staged paths\n");
  for (
    const [args, message] of [
      [["guard", "--staged", "path:src"], /guard --staged takes no resources/],
      [["guard", "--staged", "--require-held"], /takes no --lease, --require-held or --wait/],
      [["guard"], /missing argument: guard takes <resource>/],
    ] as const
  ) {
    const r = await repo.cli([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const outside = await runCli(["guard", "--staged"], { cwd: repo.root });
  assert.equal(outside.code, 1, outside.stderr);
  assert.match(outside.stderr, /^error: git rev-parse failed: fatal: not a git repository/);
  const noGit = await runCli(["setup", "git"], { cwd: repo.root });
  assert.equal(noGit.code, 1);
  assert.match(noGit.stderr, /^error: setup git needs a git working tree/);
});
