/**
 * `setup claude|codex` registers `agentroom mcp` where each harness reads MCP
 * servers: idempotent, dry run, backup, uninstall of exactly its entry,
 * `--no-mcp`; and the registered command really starts the server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { editCodexMcp } from "../../src/cli/mcp_settings.ts";
import { baseEnv, runCli } from "../support/cli.ts";

async function sandbox() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-setup-mcp-" });
  const home = join(root, "home");
  const project = join(root, "project");
  await Deno.mkdir(home);
  await Deno.mkdir(join(project, ".git"), { recursive: true });
  await Deno.mkdir(join(project, "src"), { recursive: true });
  await Deno.writeTextFile(join(project, ".git", "HEAD"), "ref: refs/heads/main\n");
  return {
    root,
    home,
    project,
    run: (args: string[], env: Record<string, string> = {}) =>
      runCli(["setup", ...args], { cwd: join(project, "src"), env: { HOME: home, ...env } }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(file));
}

async function backups(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".bak-")) names.push(e.name);
  return names;
}

Deno.test("setup claude --project writes .mcp.json: idempotent, keeps other servers, uninstalls only its own", async () => {
  await using s = await sandbox();
  const file = join(s.project, ".mcp.json");
  const other = { command: "npx", args: ["-y", "other-server"] };
  await Deno.writeTextFile(file, JSON.stringify({ mcpServers: { other } }, null, 4) + "\n");

  const dry = await s.run(["claude", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /Claude Code MCP server \(project\): .*\.mcp\.json/);
  assert.match(dry.stdout, /^\+ {8}"agentroom": \{$/m);
  assert.deepEqual(await json(file), { mcpServers: { other } });

  const first = await s.run(["claude"]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await json(file), {
    mcpServers: { other, agentroom: { type: "stdio", command: "agentroom", args: ["mcp"] } },
  });
  assert.match(await Deno.readTextFile(file), /^ {4}"mcpServers"/m); // indentation kept
  assert.equal((await backups(s.project)).length, 1);

  const again = await s.run(["claude", "--json"]);
  const report = JSON.parse(again.stdout);
  assert.equal(report.mcp.changed, false);
  assert.deepEqual(report.mcp.command, ["agentroom", "mcp"]);
  assert.match(
    (await s.run(["claude"])).stdout,
    /unchanged: agentroom's MCP server is already registered/,
  );

  const removed = await s.run(["claude", "--uninstall"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await json(file), { mcpServers: { other } });
  assert.match(
    (await s.run(["claude", "--uninstall"])).stdout,
    /unchanged: no agentroom MCP server here/,
  );
});

Deno.test("setup claude --user and --local write ~/.claude.json (top level, or the project's entry)", async () => {
  await using s = await sandbox();
  const file = join(s.home, ".claude.json");
  await Deno.writeTextFile(file, JSON.stringify({ numStartups: 3, projects: {} }));
  assert.equal((await s.run(["claude", "--user"])).code, 0);
  const user = await json(file);
  assert.equal(user.numStartups, 3);
  const entry = (user.mcpServers as Record<string, { command: string; args: string[] }>).agentroom!;
  assert.equal(entry.command, Deno.execPath());
  assert.deepEqual(entry.args.slice(0, 4), ["run", "--quiet", "--config", entry.args[3]]);
  assert.ok(entry.args[3]!.endsWith("deno.json"));
  assert.deepEqual(entry.args.slice(-2).map((a) => a.split("/").at(-1)), ["cli.ts", "mcp"]);

  assert.equal((await s.run(["claude", "--local"])).code, 0);
  const local = await json(file);
  const projects = local.projects as Record<string, { mcpServers: Record<string, unknown> }>;
  assert.deepEqual(projects[await Deno.realPath(s.project)]!.mcpServers.agentroom, entry);

  // CLAUDE_CONFIG_DIR moves the file
  const dir = join(s.root, "claude-config");
  assert.equal((await s.run(["claude", "--user"], { CLAUDE_CONFIG_DIR: dir })).code, 0);
  assert.ok((await json(join(dir, ".claude.json"))).mcpServers);

  assert.equal((await s.run(["claude", "--user", "--uninstall"])).code, 0);
  assert.deepEqual((await json(file)).mcpServers, {});
});

Deno.test("setup codex writes [mcp_servers.agentroom] in config.toml, keeping everything else", async () => {
  await using s = await sandbox();
  const dir = join(s.home, ".codex");
  await Deno.mkdir(dir);
  const file = join(dir, "config.toml");
  const original = 'model = "o4"\n\n[mcp_servers.other]\ncommand = "x"\n';
  await Deno.writeTextFile(file, original);
  const r = await s.run(["codex", "--user"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Codex MCP server \(user\): .*config\.toml/);
  const text = await Deno.readTextFile(file);
  assert.ok(text.startsWith(original + "\n[mcp_servers.agentroom]\ncommand = "), text);
  assert.match(text, /\nargs = \["run", "--quiet", "--config", ".*deno\.json", .*"mcp"\]\n$/);
  assert.equal(JSON.parse((await s.run(["codex", "--user", "--json"])).stdout).mcp.changed, false);
  assert.equal(await Deno.readTextFile(file), text);

  assert.equal((await s.run(["codex", "--user", "--uninstall"])).code, 0);
  assert.equal(await Deno.readTextFile(file), original);

  // project scope: agentroom from PATH
  assert.equal((await s.run(["codex", "--project"])).code, 0);
  assert.equal(
    await Deno.readTextFile(join(s.project, ".codex", "config.toml")),
    '[mcp_servers.agentroom]\ncommand = "agentroom"\nargs = ["mcp"]\n',
  );
});

Deno.test("editCodexMcp: replaces command and args in place, keeps other keys and sub-tables", () => {
  const text = [
    "[mcp_servers.agentroom]",
    'command = "/old/agentroom"',
    "enabled = true",
    'args = ["mcp"]',
    "",
    "[mcp_servers.agentroom.env]",
    'AGENTROOM_REDIS_URL = "redis://10.0.0.5:6379"',
    "",
    "[profiles.fast]",
    'model = "o4-mini"',
    "",
  ].join("\n");
  const entry = { command: "/new/agentroom", args: ["mcp"] };
  const out = editCodexMcp(text, { entry, file: "config.toml" });
  assert.equal(out, text.replace("/old/agentroom", "/new/agentroom"));
  assert.equal(editCodexMcp(out, { entry, file: "config.toml" }), out);
  assert.equal(
    editCodexMcp(out, { file: "config.toml" }),
    '[profiles.fast]\nmodel = "o4-mini"\n',
  );
  assert.throws(
    () => editCodexMcp("mcp_servers = { x = 1 }\n", { entry, file: "config.toml" }),
    /in a form setup does not edit/,
  );
});

Deno.test("setup: --no-mcp leaves MCP alone; a foreign 'agentroom' server is refused; --no-mcp is claude/codex only", async () => {
  await using s = await sandbox();
  const file = join(s.project, ".mcp.json");
  assert.equal((await s.run(["claude", "--no-mcp"])).code, 0);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound);

  const foreign = { mcpServers: { agentroom: { command: "something-else" } } };
  await Deno.writeTextFile(file, JSON.stringify(foreign));
  const refused = await s.run(["claude"]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^error: .*already has an MCP server named "agentroom" that setup did not write/,
  );
  assert.deepEqual(await json(file), foreign);

  const usage = await s.run(["pi", "--no-mcp"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^error: --no-mcp is for setup claude and setup codex only/);
});

Deno.test("setup claude --user: the registered command starts a working MCP server from another directory", async () => {
  await using s = await sandbox();
  assert.equal((await s.run(["claude", "--user"])).code, 0);
  const entry = ((await json(join(s.home, ".claude.json"))).mcpServers as Record<
    string,
    { command: string; args: string[] }
  >).agentroom!;
  // a project with its own deno.json that must not apply to agentroom
  await Deno.writeTextFile(join(s.project, "deno.json"), '{"imports":{"zod":"npm:zod@3.0.0"}}');
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    env: baseEnv(),
    cwd: s.project,
    stderr: "pipe",
  });
  const client = new Client({ name: "setup-test", version: "0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.length >= 17);
  } finally {
    await client.close();
  }
});
