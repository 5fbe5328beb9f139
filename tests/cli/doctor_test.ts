/**
 * `agentroom doctor` against real redis-servers (healthy, evicting, without
 * persistence, absent) and with hooks installed, missing, or pointing at an
 * executable that does not exist.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Check } from "../../src/cli/doctor.ts";
import { HOOK_EVENT_KEYS } from "../../src/cli/hook_settings.ts";
import { runCli } from "../support/cli.ts";
import { closedPort, shared, startRedis } from "../support/redis.ts";

/** A temp HOME, state dir and git project. */
async function sandbox() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-doctor-" });
  const home = join(root, "home");
  const project = join(root, "project");
  await Deno.mkdir(home);
  await Deno.mkdir(join(project, ".git"), { recursive: true });
  await Deno.writeTextFile(join(project, ".git", "HEAD"), "ref: refs/heads/feature\n");
  const env = { HOME: home, XDG_STATE_HOME: join(root, "state") };
  return {
    home,
    project,
    run: (args: string[], extra: Record<string, string> = {}) =>
      runCli(args, { cwd: project, env: { ...env, ...extra } }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

function checksOf(stdout: string): Map<string, Check> {
  const parsed = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  return new Map(parsed.checks.map((c) => [c.name, c]));
}

Deno.test("doctor on a healthy Redis (AOF, noeviction): Redis checks ok, room and identity explained", async () => {
  await using box = await sandbox();
  // AOF files go to a temp dir, not the working directory
  const data = await Deno.makeTempDir({ prefix: "agentroom-doctor-aof-" });
  const redis = await startRedis(["--appendonly", "yes", "--dir", data]);
  try {
    const result = await box.run(["doctor", "--json"], {
      AGENTROOM_REDIS_URL: redis.url,
      CODEX_THREAD_ID: "0190b0c4-7a2b-7c3d-8e4f-0123456789ab",
    });
    assert.equal(result.code, 0, result.stderr);
    const checks = checksOf(result.stdout);
    for (const name of ["redis", "version", "eviction", "persistence", "clock", "schema"]) {
      assert.equal(checks.get(name)?.status, "ok", `${name}: ${JSON.stringify(checks.get(name))}`);
    }
    assert.match(checks.get("redis")!.detail, /from AGENTROOM_REDIS_URL/);
    assert.match(checks.get("persistence")!.detail, /AOF on/);
    assert.match(checks.get("room")!.detail, /^project:feature \(repo from the git toplevel/);
    assert.match(checks.get("identity")!.detail, /from CODEX_THREAD_ID, set by Codex/);
    assert.equal(checks.get("hook latency")?.status, "ok");
    assert.equal(checks.get("hooks claude")?.status, "warn");
    assert.equal(checks.get("hooks claude")?.fix, "agentroom setup claude");

    const text = await box.run(["doctor"], { AGENTROOM_REDIS_URL: redis.url });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ok {4}redis /m);
    assert.match(text.stdout, /^warn +hooks claude .*\n +fix: agentroom setup claude$/m);
  } finally {
    await redis.stop();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("doctor warns about allkeys-lru and about a Redis without persistence", async () => {
  await using box = await sandbox();
  const redis = await startRedis(["--maxmemory-policy", "allkeys-lru"]);
  try {
    const result = await box.run(["doctor", "--json"], { AGENTROOM_REDIS_URL: redis.url });
    assert.equal(result.code, 0, "warnings alone exit 0");
    const checks = checksOf(result.stdout);
    assert.equal(checks.get("eviction")?.status, "warn");
    assert.match(checks.get("eviction")!.detail, /allkeys-lru/);
    assert.match(checks.get("eviction")!.fix!, /CONFIG SET maxmemory-policy noeviction/);
    // the test servers run with --save "" --appendonly no
    assert.equal(checks.get("persistence")?.status, "warn");
    assert.match(checks.get("persistence")!.fix!, /appendonly yes/);
  } finally {
    await redis.stop();
  }
});

Deno.test("doctor without a reachable Redis fails with the command that fixes it", async () => {
  await using box = await sandbox();
  const result = await box.run(["doctor", "--json"], {
    AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}`,
  });
  assert.equal(result.code, 1);
  const checks = checksOf(result.stdout);
  assert.equal(checks.get("redis")?.status, "fail");
  assert.match(checks.get("redis")!.fix!, /AGENTROOM_REDIS_URL/);
  assert.equal(checks.has("hook latency"), false);
  const defaulted = await box.run(["doctor", "--json"], { AGENTROOM_REDIS_URL: "" });
  if (defaulted.code === 1) {
    const redis = checksOf(defaulted.stdout).get("redis")!;
    if (redis.status === "fail") assert.equal(redis.fix, "agentroom server start");
  }
});

Deno.test("doctor checks installed hooks: ok, pointing at a missing executable, Codex network", async () => {
  await using box = await sandbox();
  const env = { AGENTROOM_REDIS_URL: shared.url };
  // --local writes this checkout's deno + cli.ts, both of which exist
  const setup = await box.run(["setup", "claude", "--local"], env);
  assert.equal(setup.code, 0, setup.stderr);
  let checks = checksOf((await box.run(["doctor", "--json"], env)).stdout);
  assert.equal(
    checks.get("hooks claude")?.status,
    "ok",
    JSON.stringify(checks.get("hooks claude")),
  );
  const all = HOOK_EVENT_KEYS.length;
  assert.match(
    checks.get("hooks claude")!.detail,
    new RegExp(`settings\\.local\\.json \\(${all} of ${all}\\)`),
  );

  // a settings file whose hooks run an executable that is gone
  const file = join(box.project, ".claude", "settings.local.json");
  const text = await Deno.readTextFile(file);
  const words = text.match(/"command": "([^"]+) hook session-start"/)![1]!;
  await Deno.writeTextFile(file, text.replaceAll(words, "/nonexistent/bin/agentroom"));
  const broken = await box.run(["doctor", "--json"], env);
  assert.equal(broken.code, 1);
  checks = checksOf(broken.stdout);
  assert.equal(checks.get("hooks claude")?.status, "fail");
  assert.match(
    checks.get("hooks claude")!.detail,
    /\/nonexistent\/bin\/agentroom, which does not exist/,
  );
  assert.match(checks.get("hooks claude")!.fix!, /^agentroom setup claude/);

  // Codex hooks without sandbox network access
  const codex = await box.run(["setup", "codex", "--user"], env);
  assert.equal(codex.code, 0, codex.stderr);
  checks = checksOf((await box.run(["doctor", "--json"], env)).stdout);
  assert.equal(checks.get("codex sandbox")?.status, "warn");
  assert.equal(checks.get("codex sandbox")?.fix, "agentroom setup codex --allow-network");
});

Deno.test("doctor reads Claude Code's workspace trust where it is recorded", async () => {
  await using box = await sandbox();
  const env = { AGENTROOM_REDIS_URL: shared.url };
  assert.equal((await box.run(["setup", "claude", "--local"], env)).code, 0);
  const state = join(box.home, ".claude.json");
  const trust = async (accepted: boolean) => {
    await Deno.writeTextFile(
      state,
      JSON.stringify({ projects: { [box.project]: { hasTrustDialogAccepted: accepted } } }),
    );
    return checksOf((await box.run(["doctor", "--json"], env)).stdout).get("claude trust");
  };
  assert.equal((await trust(false))?.status, "warn");
  assert.equal((await trust(true))?.status, "ok");
  await Deno.remove(state);
  assert.equal(
    checksOf((await box.run(["doctor", "--json"], env)).stdout).has("claude trust"),
    false,
    "nothing said when it cannot be read",
  );
});
