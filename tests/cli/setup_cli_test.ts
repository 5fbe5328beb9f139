import assert from "node:assert/strict";
import { join } from "node:path";
import { RUN_PERMISSIONS } from "../../scripts/permissions.ts";
import { SOURCE_RUN_PERMISSIONS } from "../../src/cli/setup.ts";
import { closedPort } from "../support/redis.ts";
import { agentroomOnPath, CLI, runCli } from "../support/cli.ts";

/** A temp HOME and a temp git project (with a subdirectory to run from). */
async function sandbox() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-setup-" });
  const home = join(root, "home");
  const project = join(root, "project");
  await Deno.mkdir(home);
  await Deno.mkdir(join(project, ".git"), { recursive: true });
  await Deno.mkdir(join(project, "src", "deep"), { recursive: true });
  await Deno.writeTextFile(join(project, ".git", "HEAD"), "ref: refs/heads/main\n");
  return {
    root,
    home,
    project,
    claude: join(project, ".claude", "settings.json"),
    run: (args: string[], env: Record<string, string> = {}) =>
      runCli(["setup", ...args], {
        cwd: join(project, "src", "deep"),
        env: { HOME: home, ...env },
      }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

async function backups(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.includes(".bak-")) names.push(entry.name);
  }
  return names.sort();
}

const OTHER_HOOKS = {
  model: "opus",
  hooks: {
    SessionStart: [{ matcher: "startup", hooks: [{ type: "command", command: "echo hi" }] }],
    PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "/opt/guard.sh" }] }],
    Stop: [{ hooks: [{ type: "command", command: "say done", timeout: 2 }] }],
  },
  permissions: { allow: ["Bash(npm test)"] },
};

/** What `setup` installs in project settings (committed): agentroom from PATH. */
function pathCommand(event: string): string {
  return `agentroom hook ${event}`;
}

/** What `setup` installs in user and local settings when run from this checkout. */
function ourCommand(event: string): string {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    ...RUN_PERMISSIONS,
    CLI,
    "hook",
    event,
  ].join(" ");
}

Deno.test("the from-source hook command runs with exactly the binary's permissions", () => {
  assert.deepEqual(SOURCE_RUN_PERMISSIONS, RUN_PERMISSIONS);
});

Deno.test("setup claude merges into existing settings, keeps a backup, twice changes nothing", async () => {
  await using box = await sandbox();
  await Deno.mkdir(join(box.project, ".claude"));
  const original = JSON.stringify(OTHER_HOOKS, null, 4) + "\n";
  await Deno.writeTextFile(box.claude, original);

  const first = await box.run(["claude"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, "");
  assert.ok(first.stdout.startsWith(`Claude Code hooks (project): ${box.claude}\n`), first.stdout);
  assert.match(first.stdout, new RegExp(`^\\+ SessionStart: .*hook session-start$`, "m"));
  assert.match(
    first.stdout,
    /^\+ PreToolUse \[Edit\|Write\|NotebookEdit\]: agentroom hook pre-tool-use$/m,
  );
  assert.ok(first.stdout.includes(`--- ${box.claude}\n+++ ${box.claude}\n@@ `), first.stdout);
  assert.match(first.stdout, /^\+ {24}"command": ".*hook session-end",$/m);
  assert.match(first.stdout, /^backup: .*settings\.json\.bak-\d{8}T\d{6}Z$/m);
  assert.match(first.stdout, /^note: project settings are shared through git, so the hook /m);
  assert.match(first.stdout, /needs the agentroom executable on PATH \(it is NOT on PATH here\)/);
  assert.match(
    first.stdout,
    /^note: Claude Code runs hooks from settings files only in a trusted/m,
  );

  const text = await Deno.readTextFile(box.claude);
  assert.ok(text.startsWith('{\n    "model"'), "indentation kept");
  const settings = JSON.parse(text);
  assert.deepEqual(Object.keys(settings), ["model", "hooks", "permissions"]);
  assert.deepEqual(settings.permissions, OTHER_HOOKS.permissions);
  assert.deepEqual(settings.hooks.Stop, [
    ...OTHER_HOOKS.hooks.Stop,
    { hooks: [{ type: "command", command: pathCommand("stop"), timeout: 5 }] },
  ]);
  assert.deepEqual(settings.hooks.SessionStart, [
    ...OTHER_HOOKS.hooks.SessionStart,
    { hooks: [{ type: "command", command: pathCommand("session-start"), timeout: 5 }] },
  ]);
  assert.deepEqual(settings.hooks.PreToolUse, [
    ...OTHER_HOOKS.hooks.PreToolUse,
    {
      matcher: "Edit|Write|NotebookEdit",
      hooks: [{ type: "command", command: pathCommand("pre-tool-use"), timeout: 5 }],
    },
  ]);
  assert.deepEqual(settings.hooks.UserPromptSubmit, [
    { hooks: [{ type: "command", command: pathCommand("user-prompt-submit"), timeout: 5 }] },
  ]);
  assert.deepEqual(settings.hooks.SessionEnd, [
    { hooks: [{ type: "command", command: pathCommand("session-end"), timeout: 3 }] },
  ]);
  assert.ok(!text.includes(box.root) && !text.includes(CLI), "no path of this machine");
  const saved = await backups(join(box.project, ".claude"));
  assert.equal(saved.length, 1);
  assert.equal(await Deno.readTextFile(join(box.project, ".claude", saved[0]!)), original);

  const bytes = await Deno.readFile(box.claude);
  const second = await box.run(["claude"]);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(
    second.stdout.startsWith(
      `Claude Code hooks (project): ${box.claude}\nunchanged: agentroom's hooks are already installed\n`,
    ),
    second.stdout,
  );
  assert.ok(!second.stdout.includes("trusted workspace"), "no trust note when nothing changed");
  assert.deepEqual(await Deno.readFile(box.claude), bytes);
  assert.deepEqual(await backups(join(box.project, ".claude")), saved, "no second backup");

  // the installed command really runs the hook, with agentroom on PATH: invalid input, fail open
  const bin = await agentroomOnPath(box.root);
  const hook = await new Deno.Command("sh", {
    args: ["-c", settings.hooks.SessionStart[1].hooks[0].command],
    env: { AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}`, PATH: bin },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(hook.code, 0, new TextDecoder().decode(hook.stderr));
  assert.equal(new TextDecoder().decode(hook.stdout), "");

  // uninstall restores the original hooks, with a backup of the installed state
  const removed = await box.run(["claude", "--uninstall"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout.match(/^- [A-Z]\w+( \[.*\])?: /gm)?.length, 6, removed.stdout);
  assert.ok(!/^\+ [A-Z]/m.test(removed.stdout));
  assert.deepEqual(JSON.parse(await Deno.readTextFile(box.claude)), OTHER_HOOKS);
  assert.equal(await Deno.readTextFile(box.claude), original);
  assert.equal((await backups(join(box.project, ".claude"))).length, 2);
  const again = await box.run(["claude", "--uninstall"]);
  assert.match(again.stdout, /unchanged: no agentroom hooks here/);
});

Deno.test("setup claude replaces an older agentroom path instead of adding a second", async () => {
  await using box = await sandbox();
  await Deno.mkdir(join(box.project, ".claude"));
  const old = "/opt/agentroom-0.0.1/agentroom hook user-prompt-submit";
  await Deno.writeTextFile(
    box.claude,
    JSON.stringify({
      hooks: {
        UserPromptSubmit: [{
          hooks: [{ type: "command", command: "mine" }, { type: "command", command: old }],
        }],
      },
    }),
  );
  const out = await box.run(["claude", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout);
  assert.deepEqual(report.removed, [{ event: "UserPromptSubmit", command: old }]);
  assert.equal(report.added.length, 6);
  const settings = JSON.parse(await Deno.readTextFile(box.claude));
  assert.deepEqual(settings.hooks.UserPromptSubmit, [{
    hooks: [
      { type: "command", command: "mine" },
      { type: "command", command: pathCommand("user-prompt-submit"), timeout: 5 },
    ],
  }]);
});

Deno.test("setup claude --dry-run shows the diff and writes nothing", async () => {
  await using box = await sandbox();
  const fresh = await box.run(["claude", "--dry-run"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(fresh.stdout.includes(`--- /dev/null\n+++ ${box.claude}\n@@ -0,0 +1,`), fresh.stdout);
  assert.match(fresh.stdout, /^dry run: nothing written$/m);
  await assert.rejects(Deno.stat(join(box.project, ".claude")), Deno.errors.NotFound);

  await Deno.mkdir(join(box.project, ".claude"));
  await Deno.writeTextFile(box.claude, '{"model":"opus"}');
  const json = await box.run(["claude", "--dry-run", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.file, box.claude);
  assert.equal(report.changed, true);
  assert.equal(report.written, false);
  assert.equal(report.dry_run, true);
  assert.equal(report.backup, null);
  assert.equal(report.added.length, 6);
  assert.deepEqual(report.removed, []);
  assert.equal(await Deno.readTextFile(box.claude), '{"model":"opus"}');
  assert.deepEqual(await backups(join(box.project, ".claude")), []);
});

Deno.test("setup claude --user and --local pick their files; a fresh file gets no backup", async () => {
  await using box = await sandbox();
  const user = await box.run(["claude", "--user", "--json"]);
  assert.equal(user.code, 0, user.stderr);
  const report = JSON.parse(user.stdout);
  const file = join(box.home, ".claude", "settings.json");
  assert.equal(report.file, file);
  assert.equal(report.scope, "user");
  assert.equal(report.backup, null);
  assert.equal(report.written, true);
  assert.equal(Object.keys(JSON.parse(await Deno.readTextFile(file)).hooks).length, 6);

  const local = await box.run(["claude", "--local"]);
  assert.equal(local.code, 0, local.stderr);
  const localFile = join(box.project, ".claude", "settings.local.json");
  assert.ok(local.stdout.startsWith(`Claude Code hooks (local): ${localFile}\n`), local.stdout);
  assert.ok(!local.stdout.includes("on PATH"), local.stdout);
  assert.match(
    local.stdout,
    /^note: Claude Code runs hooks from settings files only in a trusted/m,
  );
  assert.equal(
    JSON.parse(await Deno.readTextFile(localFile)).hooks.SessionStart[0].hooks[0].command,
    ourCommand("session-start"),
    "local settings name this machine's executable",
  );
  await Deno.stat(localFile);
  await assert.rejects(Deno.stat(box.claude), Deno.errors.NotFound);

  const custom = join(box.root, "claude-config");
  const viaEnv = await box.run(["claude", "--user", "--json"], { CLAUDE_CONFIG_DIR: custom });
  assert.equal(JSON.parse(viaEnv.stdout).file, join(custom, "settings.json"));
});

Deno.test("setup edits a symlinked settings file where it points", async () => {
  await using box = await sandbox();
  const dotfiles = join(box.root, "dotfiles");
  await Deno.mkdir(dotfiles);
  await Deno.mkdir(join(box.home, ".claude"));
  const real = join(dotfiles, "claude.json");
  await Deno.writeTextFile(real, "{}\n");
  const link = join(box.home, ".claude", "settings.json");
  await Deno.symlink(real, link);
  const out = await box.run(["claude", "--user"]);
  assert.equal(out.code, 0, out.stderr);
  assert.ok((await Deno.lstat(link)).isSymlink, "the link is kept");
  assert.equal(Object.keys(JSON.parse(await Deno.readTextFile(real)).hooks).length, 6);
});

Deno.test("invalid JSON: exit 1 naming the file, file untouched, no backup", async () => {
  await using box = await sandbox();
  await Deno.mkdir(join(box.project, ".claude"));
  const broken = '{ "hooks": { "SessionStart": [ }\n';
  await Deno.writeTextFile(box.claude, broken);
  for (const args of [["claude"], ["claude", "--uninstall"], ["claude", "--dry-run"]]) {
    const out = await box.run(args);
    assert.equal(out.code, 1, out.stderr);
    assert.equal(out.stdout, "");
    assert.ok(out.stderr.startsWith(`error: ${box.claude} is not valid JSON`), out.stderr);
  }
  assert.equal(await Deno.readTextFile(box.claude), broken);
  assert.deepEqual(await backups(join(box.project, ".claude")), []);

  await Deno.writeTextFile(box.claude, '{"hooks": []}');
  const shape = await box.run(["claude"]);
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /"hooks" in .*settings\.json is not an object/);
});

Deno.test("setup codex writes Codex's hooks file with apply_patch and the trust note", async () => {
  await using box = await sandbox();
  const file = join(box.home, ".codex", "hooks.json");
  await Deno.mkdir(join(box.home, ".codex"));
  const original = {
    hooks: { Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }] },
  };
  await Deno.writeTextFile(file, JSON.stringify(original, null, 2) + "\n");

  const out = await box.run(["codex", "--user"]);
  assert.equal(out.code, 0, out.stderr);
  assert.ok(out.stdout.startsWith(`Codex hooks (user): ${file}\n`), out.stdout);
  assert.match(out.stdout, /^\+ PreToolUse \[apply_patch\]: .*hook pre-tool-use$/m);
  assert.match(
    out.stdout,
    /^note: Codex runs new or changed hooks only after you review .*\/hooks/m,
  );
  const settings = JSON.parse(await Deno.readTextFile(file));
  assert.deepEqual(settings.hooks.Stop, [
    ...original.hooks.Stop,
    { hooks: [{ type: "command", command: ourCommand("stop"), timeout: 5 }] },
  ]);
  assert.deepEqual(settings.hooks.PreToolUse, [{
    matcher: "apply_patch",
    hooks: [{ type: "command", command: ourCommand("pre-tool-use"), timeout: 5 }],
  }]);
  assert.deepEqual(settings.hooks.SessionEnd[0].hooks[0].timeout, 3);
  assert.equal((await backups(join(box.home, ".codex"))).length, 1);

  const again = await box.run(["codex", "--user"]);
  assert.match(again.stdout, /unchanged/);
  assert.ok(!again.stdout.includes("open /hooks"), "no trust note when nothing changed");
  assert.match(
    again.stdout,
    /^note: in Codex's default workspace-write sandbox the agent's shell has no network/m,
  );

  const project = await box.run(["codex", "--json"]);
  assert.equal(project.code, 0, project.stderr);
  const report = JSON.parse(project.stdout);
  assert.equal(report.file, join(box.project, ".codex", "hooks.json"));
  assert.ok(report.notes.some((n: string) => n.includes("trusted")));

  const removed = await box.run(["codex", "--user", "--uninstall"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), original);

  const viaEnv = await box.run(["codex", "--user", "--dry-run", "--json"], {
    CODEX_HOME: join(box.root, "codex-home"),
  });
  assert.equal(JSON.parse(viaEnv.stdout).file, join(box.root, "codex-home", "hooks.json"));
});

Deno.test("setup: usage errors exit 2, a missing HOME exits 1", async () => {
  await using box = await sandbox();
  const cases: [string[], RegExp][] = [
    [[], /missing argument: setup takes <claude\|codex\|pi\|git>/],
    [["vim"], /unknown setup target "vim"; expected claude, codex, pi or git/],
    [["claude", "--user", "--project"], /choose one of --user, --project, not several/],
    [["claude", "--local", "--user"], /choose one of --user, --local/],
    [["codex", "--local"], /codex has no local settings file/],
    [["pi", "--local"], /pi has no local settings file/],
    [["git", "--user"], /setup git takes no --user/],
    [["claude", "--allow-network"], /--allow-network is for setup codex only/],
    [["codex", "--allow-network", "--uninstall"], /cannot be combined with --uninstall/],
    [["claude", "extra"], /too many arguments/],
    [["claude", "--bogus"], /unknown flag --bogus/],
  ];
  for (const [args, message] of cases) {
    const out = await box.run(args);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assert.match(out.stderr, message);
    assert.match(out.stderr, /run 'agentroom setup --help'/);
  }
  const noHome = await box.run(["claude", "--user"], { HOME: "" });
  assert.equal(noHome.code, 1);
  assert.match(noHome.stderr, /^error: HOME is not set, so the user settings file/);
  await assert.rejects(Deno.stat(join(box.project, ".claude")), Deno.errors.NotFound);

  const help = await box.run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: agentroom setup <claude\|codex\|pi\|git>/m);
});
