/**
 * Codex's sandbox (no network for the agent's shell): `setup codex` says so
 * and writes `network_access = true` only with `--allow-network`; the CLI
 * recognises a blocked network (EPERM, reproduced here with a real seccomp
 * filter like Codex's Linux sandbox) and says what to change. Also `setup
 * claude --local` keeping settings.local.json out of git.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { enableNetworkAccess, networkAccess } from "../../src/cli/codex_config.ts";
import { isNetworkBlocked } from "../../src/redis/connect.ts";
import { RedisUnavailableError } from "../../src/errors.ts";
import { baseEnv, cliArgs, runCli } from "../support/cli.ts";
import { shared } from "../support/redis.ts";

Deno.test("codex config: network_access read and turned on, every other byte kept", () => {
  assert.equal(networkAccess(""), "unset");
  assert.equal(enableNetworkAccess(""), "[sandbox_workspace_write]\nnetwork_access = true\n");
  const other = 'model = "o3"\n\n[projects."/x"]\ntrust_level = "trusted"';
  assert.equal(
    enableNetworkAccess(other),
    `${other}\n\n[sandbox_workspace_write]\nnetwork_access = true\n`,
  );
  const table =
    '[sandbox_workspace_write]\nwritable_roots = ["/tmp"]\n\n[x]\nnetwork_access = false\n';
  assert.equal(networkAccess(table), "unset", "a key of another table is not ours");
  assert.equal(
    enableNetworkAccess(table),
    '[sandbox_workspace_write]\nnetwork_access = true\nwritable_roots = ["/tmp"]\n\n[x]\nnetwork_access = false\n',
  );
  const off = "[ sandbox_workspace_write ]\nnetwork_access = false # no\n";
  assert.equal(networkAccess(off), "off");
  assert.equal(
    enableNetworkAccess(off),
    "[ sandbox_workspace_write ]\nnetwork_access = true # no\n",
  );
  const on = "[sandbox_workspace_write]\nnetwork_access = true\n";
  assert.equal(networkAccess(on), "on");
  assert.equal(enableNetworkAccess(on), on);
  for (
    const form of [
      "sandbox_workspace_write.network_access = true\n",
      "sandbox_workspace_write = { network_access = false }\n",
    ]
  ) {
    assert.throws(
      () => enableNetworkAccess(form, "c.toml"),
      /c\.toml sets sandbox_workspace_write on line 1 in a form setup does not edit/,
    );
  }
});

async function codexBox() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-codex-" });
  const home = join(root, "home");
  const project = join(root, "project");
  await Deno.mkdir(home);
  await Deno.mkdir(join(project, ".git"), { recursive: true });
  await Deno.writeTextFile(join(project, ".git", "HEAD"), "ref: refs/heads/main\n");
  return {
    root,
    home,
    project,
    run: (args: string[]) => runCli(["setup", ...args], { cwd: project, env: { HOME: home } }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("setup codex: the sandbox note, and --allow-network writes config.toml with a diff and a backup", async () => {
  await using box = await codexBox();
  const config = join(box.home, ".codex", "config.toml");
  const plain = await box.run(["codex", "--user", "--no-mcp"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(
    plain.stdout,
    /^note: in Codex's default workspace-write sandbox the agent's shell has no network, so every agentroom command the agent runs fails with 'Operation not permitted'/m,
  );
  assert.ok(
    plain.stdout.includes(`set in ${config}: [sandbox_workspace_write] network_access = true`),
  );
  assert.match(plain.stdout, /agentroom's MCP server \('agentroom mcp'\)/);
  await assert.rejects(Deno.stat(config), Deno.errors.NotFound, "written only when asked");

  const original = 'model = "o3"\n';
  await Deno.writeTextFile(config, original);
  const dry = await box.run(["codex", "--user", "--no-mcp", "--allow-network", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\+\[sandbox_workspace_write\]$/m);
  assert.match(dry.stdout, /^\+network_access = true$/m);
  assert.equal(await Deno.readTextFile(config), original);

  const wrote = await box.run(["codex", "--user", "--no-mcp", "--allow-network"]);
  assert.equal(wrote.code, 0, wrote.stderr);
  assert.ok(wrote.stdout.includes(`Codex sandbox network (user): ${config}\n`), wrote.stdout);
  assert.match(wrote.stdout, /^backup: .*config\.toml\.bak-\d{8}T\d{6}Z$/m);
  assert.ok(!wrote.stdout.includes("has no network"), "no sandbox note once it is on");
  assert.equal(
    await Deno.readTextFile(config),
    'model = "o3"\n\n[sandbox_workspace_write]\nnetwork_access = true\n',
  );
  const again = await box.run(["codex", "--user", "--no-mcp", "--allow-network", "--json"]);
  const report = JSON.parse(again.stdout);
  assert.deepEqual(
    {
      before: report.network.before,
      changed: report.network.changed,
      backup: report.network.backup,
    },
    { before: "on", changed: false, backup: null },
  );

  const project = await box.run(["codex", "--allow-network", "--json", "--no-mcp"]);
  assert.equal(JSON.parse(project.stdout).network.file, join(box.project, ".codex", "config.toml"));
  assert.equal(
    await Deno.readTextFile(join(box.project, ".codex", "config.toml")),
    "[sandbox_workspace_write]\nnetwork_access = true\n",
  );
  const hooks = JSON.parse(await Deno.readTextFile(join(box.project, ".codex", "hooks.json")));
  assert.equal(hooks.hooks.SessionStart[0].hooks[0].command, "agentroom hook session-start");
});

Deno.test("a blocked network (EPERM) is classified by its error value, through causes", () => {
  const eperm = new Deno.errors.PermissionDenied("Operation not permitted (os error 1)");
  assert.ok(isNetworkBlocked(eperm));
  assert.ok(
    isNetworkBlocked(
      new RedisUnavailableError("redis://x", "operation not permitted", { cause: eperm }),
    ),
  );
  const node = Object.assign(new Error("connect EACCES 127.0.0.1:6379"), {
    code: "EACCES",
    syscall: "connect",
  });
  assert.ok(
    isNetworkBlocked(new RedisUnavailableError("redis://x", node.message, { cause: node })),
  );
  assert.ok(
    !isNetworkBlocked(new Deno.errors.ConnectionRefused("Connection refused (os error 111)")),
  );
  assert.ok(!isNetworkBlocked(new RedisUnavailableError("redis://x", "connection refused")));
  assert.ok(!isNetworkBlocked(new Error("connect ECONNREFUSED 127.0.0.1:6379")));
});

const NO_NETWORK = fileURLToPath(new URL("../support/no_network.py", import.meta.url));

Deno.test("the CLI under a seccomp filter that denies connect() says what to change, for both transports", async () => {
  for (const transport of ["resp", "ioredis"]) {
    const out = await new Deno.Command("python3", {
      args: [NO_NETWORK, Deno.execPath(), ...cliArgs(["who"])],
      env: { ...baseEnv(), AGENTROOM_TRANSPORT: transport, AGENTROOM_REDIS_URL: shared.url },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, `${transport}: ${stderr}`);
    assert.equal(new TextDecoder().decode(out.stdout), "");
    assert.equal(stderr.split("\n").length, 2, `one line: ${stderr}`);
    assert.match(
      stderr,
      /^error: this process may not open network connections \(connecting to Redis at .*: operation not permitted\)/,
    );
    assert.match(
      stderr,
      /\[sandbox_workspace_write\] network_access = true in ~\/\.codex\/config\.toml/,
    );
    assert.ok(!stderr.includes("start redis-server"), stderr);
  }
  // the control: the same command without the filter reaches Redis
  const free = await runCli(["who"]);
  assert.equal(free.code, 0, free.stderr);
});

Deno.test("setup claude --local keeps settings.local.json out of git via .git/info/exclude", async () => {
  await using box = await codexBox();
  const exclude = join(box.project, ".git", "info", "exclude");
  const dry = await box.run(["claude", "--local", "--dry-run"]);
  assert.match(
    dry.stdout,
    /^git ignore: would add \/\.claude\/settings\.local\.json to .*exclude$/m,
  );
  await assert.rejects(Deno.stat(exclude), Deno.errors.NotFound);
  const first = await box.run(["claude", "--local"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^git ignore: added \/\.claude\/settings\.local\.json to .*exclude$/m);
  assert.match(await Deno.readTextFile(exclude), /^\/\.claude\/settings\.local\.json$/m);
  const again = await box.run(["claude", "--local", "--json"]);
  assert.deepEqual(JSON.parse(again.stdout).ignore, { file: exclude, already: true, added: false });
  assert.equal(
    (await Deno.readTextFile(exclude)).match(/settings\.local\.json/g)?.length,
    1,
    "added once",
  );
});

Deno.test("setup claude --local respects a rule git already has (real git check-ignore)", async () => {
  await using box = await codexBox();
  await Deno.remove(join(box.project, ".git"), { recursive: true });
  const init = await new Deno.Command("git", { args: ["init", "-q"], cwd: box.project }).output();
  assert.ok(init.success);
  await Deno.writeTextFile(join(box.project, ".gitignore"), ".claude/\n");
  const out = await box.run(["claude", "--local", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).ignore.already, true);
  const exclude = await Deno.readTextFile(join(box.project, ".git", "info", "exclude"));
  assert.ok(!exclude.includes("settings.local.json"), "nothing added");
});
