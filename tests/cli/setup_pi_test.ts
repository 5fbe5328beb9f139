/**
 * `agentroom setup pi`: the generated extension through the CLI (dry run,
 * write, idempotent, uninstall). The extension inside the real pi is proven
 * by the harness conformance suite (`tests/harness/pi_test.ts`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ok, runCli } from "../support/cli.ts";

async function project() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-pi-" });
  const dir = join(root, "project");
  const home = join(root, "home");
  await Deno.mkdir(join(dir, ".git"), { recursive: true });
  await Deno.mkdir(join(dir, "src"), { recursive: true });
  await Deno.mkdir(home);
  await Deno.writeTextFile(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
  return {
    root,
    dir,
    home,
    file: join(dir, ".pi", "extensions", "agentroom.ts"),
    run: (args: string[], env: Record<string, string> = {}) =>
      runCli(["setup", "pi", ...args], { cwd: join(dir, "src"), env: { HOME: home, ...env } }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("setup pi writes, keeps and removes only its extension", async () => {
  await using p = await project();
  const dry = ok(await p.run(["--dry-run"]), "dry run");
  assert.ok(dry.stdout.startsWith(`pi extension (project): ${p.file}\n`), dry.stdout);
  assert.match(dry.stdout, /^\+\/\/ agentroom pi extension/m);
  assert.match(dry.stdout, /^dry run: nothing written$/m);
  await assert.rejects(Deno.stat(join(p.dir, ".pi")), Deno.errors.NotFound);

  const wrote = ok(await p.run([]), "install");
  assert.match(wrote.stdout, /^wrote .*agentroom\.ts$/m);
  assert.match(wrote.stdout, /^note: the project's extension runs 'agentroom' from PATH/m);
  const text = await Deno.readTextFile(p.file);
  assert.ok(text.startsWith("// agentroom pi extension"));
  assert.match(text, /^const AGENTROOM: string\[\] = \["agentroom"\];$/m);
  for (const event of ["session_start", "before_agent_start", "tool_call", "session_shutdown"]) {
    assert.ok(text.includes(`pi.on("${event}"`), event);
  }
  for (const hook of ["session-start", "user-prompt-submit", "pre-tool-use", "session-end"]) {
    assert.ok(text.includes(`runHook("${hook}"`), hook);
  }
  assert.ok(text.includes("process.env.AGENTROOM_SESSION_ID = sessionId"));

  const again = ok(await p.run([]), "again");
  assert.match(again.stdout, /^unchanged: agentroom's extension is already installed$/m);
  assert.equal(await Deno.readTextFile(p.file), text);

  const user = JSON.parse(ok(await p.run(["--user", "--json"]), "user").stdout);
  const userFile = join(p.home, ".pi", "agent", "extensions", "agentroom.ts");
  assert.equal(user.file, userFile);
  assert.equal(user.written, true);
  assert.ok((await Deno.readTextFile(userFile)).includes(JSON.stringify(Deno.execPath())));

  const removed = ok(await p.run(["--uninstall"]), "uninstall");
  assert.match(removed.stdout, /^removed .*agentroom\.ts$/m);
  await assert.rejects(Deno.stat(p.file), Deno.errors.NotFound);
  const twice = ok(await p.run(["--uninstall"]), "uninstall again");
  assert.match(twice.stdout, /^unchanged: no agentroom extension here$/m);

  // a file of that name that is not ours is never touched
  await Deno.writeTextFile(p.file, "export default () => {};\n");
  for (const args of [[], ["--uninstall"]]) {
    const refused = await p.run(args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .*agentroom\.ts exists and is not agentroom's extension/);
  }
  assert.equal(await Deno.readTextFile(p.file), "export default () => {};\n");
});
