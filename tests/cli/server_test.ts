/**
 * `agentroom server start|stop|status` with a real redis-server, run as the
 * executable runs (the binary's permissions), and the endpoint resolution
 * order that finds the recorded server.
 */
import assert from "node:assert/strict";
import { resolveEndpointSource } from "../../src/process/settings.ts";
import { readServerRecord } from "../../src/process/server_state.ts";
import { runCli, spawnCli } from "../support/cli.ts";
import { payload, spawnHook } from "../support/hook.ts";
import { closedPort, withRedis } from "../support/redis.ts";

/** An environment whose state dir is a fresh temp dir and that names no Redis. */
async function isolated(): Promise<{ env: Record<string, string>; root: string }> {
  const root = await Deno.makeTempDir({ prefix: "ar-srv-" });
  return {
    root,
    env: { XDG_STATE_HOME: `${root}/state`, AGENTROOM_REDIS_URL: "" },
  };
}

/** Whether a process runs (a zombie left for an init that does not reap counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "server start --socket: user-only dir, idempotent start, used by commands, stop leaves no process",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { env, root } = await isolated();
    const dir = `${root}/data`;
    try {
      const first = await spawnCli(["server", "start", "--socket", "--dir", dir, "--json"], {
        env,
      });
      assert.equal(first.code, 0, first.stderr);
      const started = JSON.parse(first.stdout);
      assert.equal(started.action, "started");
      assert.equal(started.url, `unix://${dir}/redis.sock`);
      assert.ok(alive(started.pid), "redis-server runs");
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
      const record = readServerRecord((n) => env[n]);
      assert.equal(record?.url, started.url);

      const again = await spawnCli(["server", "start", "--socket", "--dir", dir, "--json"], {
        env,
      });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).action, "running");
      assert.equal(JSON.parse(again.stdout).pid, started.pid);

      const status = await runCli(["server", "status"], { env });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /running at unix:\/\/.*AOF on/);

      // with no Redis configured, commands (and hooks) find the recorded server
      const repo = `srv-${crypto.randomUUID().slice(0, 8)}`;
      const post = await spawnCli(["post", "NOTE", "hello", "--repo", repo, "--branch", "main"], {
        env,
      });
      assert.equal(post.code, 0, post.stderr);
      const hook = await spawnHook(
        "session-start",
        payload("claude_session_start", { session_id: crypto.randomUUID() }),
        { env: { ...env, REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_HOOK_DEBUG: "1" } },
      );
      assert.equal(hook.stderr, "");
      assert.match(hook.stdout, /type=NOTE .*hello/, "the hook found the recorded server");
      await withRedis(started.url, async (redis) => {
        assert.equal(
          await redis.call(["CONFIG", "GET", "appendonly"]).then((r) => String(r)),
          "appendonly,yes",
        );
      });

      const stop = await spawnCli(["server", "stop"], { env });
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stdout, /stopped/);
      assert.equal(alive(started.pid), false, "no redis-server left");
      assert.equal(readServerRecord((n) => env[n]), undefined);

      const after = await runCli(["server", "status"], { env });
      assert.equal(after.code, 1);
      assert.match(after.stdout, /not running/);
      const stopAgain = await runCli(["server", "stop"], { env });
      assert.equal(stopAgain.code, 0, stopAgain.stderr);
    } finally {
      await runCli(["server", "stop"], { env });
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "server start --port: loopback with AOF; --port and --socket exclude each other",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { env, root } = await isolated();
    const port = closedPort();
    try {
      const both = await runCli(["server", "start", "--socket", "--port", "7000"], { env });
      assert.equal(both.code, 2);
      const start = await runCli(
        ["server", "start", "--port", String(port), "--dir", `${root}/d`],
        {
          env,
        },
      );
      assert.equal(start.code, 0, start.stderr);
      assert.match(start.stdout, new RegExp(`redis://127\\.0\\.0\\.1:${port}`));
      const source = resolveEndpointSource({}, (n) => env[n]);
      assert.equal(source.endpoint.port, port);
      assert.match(source.source, /server\.json$/);
      // the environment wins over the recorded server, a flag over both
      const fromEnv = resolveEndpointSource(
        {},
        (n) => n === "AGENTROOM_REDIS_URL" ? "redis://10.1.1.1:1" : env[n],
      );
      assert.equal(fromEnv.source, "AGENTROOM_REDIS_URL");
      const fromFlag = resolveEndpointSource({ redis: "redis://h:2" }, (n) => env[n]);
      assert.equal(fromFlag.source, "--redis");
    } finally {
      const stop = await runCli(["server", "stop"], { env });
      assert.equal(stop.code, 0, stop.stderr);
      await Deno.remove(root, { recursive: true });
    }
    const none = resolveEndpointSource({}, (n) => env[n]);
    assert.equal(none.source, "default");
    assert.equal(none.endpoint.port, 6379);
  },
});

Deno.test("server start without redis-server on PATH says how to install it", async () => {
  const { env, root } = await isolated();
  try {
    const result = await runCli(["server", "start", "--socket"], {
      env: { ...env, PATH: `${root}/empty` },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: redis-server is not on PATH; install it: .*apt install/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("server with an unknown action is a usage error", async () => {
  const { env, root } = await isolated();
  const result = await runCli(["server", "restart"], { env });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown server action "restart"/);
  await Deno.remove(root, { recursive: true });
});
