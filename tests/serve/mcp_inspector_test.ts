/**
 * `agentroom mcp` through a client we did not write: the MCP Inspector CLI
 * (`--cli` mode), installed into `~/.cache/agentroom/harness/` when missing.
 * If it cannot be installed the test fails, unless `AGENTROOM_SKIP_HARNESS=1`
 * (then it says that it skipped).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { baseEnv, cliArgs, ok, runCli } from "../support/cli.ts";
import { shared, uniqueRepo } from "../support/redis.ts";

const PACKAGE = "@modelcontextprotocol/inspector";
const VERSION = "2.12.0";

/** The Inspector's launcher script, installed into the harness cache when missing. */
async function inspector(): Promise<string | undefined> {
  const home = Deno.env.get("HOME") ?? "/tmp";
  const prefix = join(home, ".cache", "agentroom", "harness", `${PACKAGE}@${VERSION}`);
  const bin = join(prefix, "node_modules", ...PACKAGE.split("/"), "clients", "launcher", "build");
  const launcher = join(bin, "index.js");
  try {
    await Deno.stat(launcher);
    return launcher;
  } catch {
    // install below
  }
  const install = await new Deno.Command("npm", {
    args: ["install", "--prefix", prefix, "--no-audit", "--no-fund", `${PACKAGE}@${VERSION}`],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: String(error) }));
  if (install.success) return launcher;
  if (Deno.env.get("AGENTROOM_SKIP_HARNESS") === "1") {
    console.log(`skipped: cannot install ${PACKAGE}@${VERSION} (AGENTROOM_SKIP_HARNESS=1)`);
    return undefined;
  }
  const stderr = typeof install.stderr === "string"
    ? install.stderr
    : new TextDecoder().decode(install.stderr);
  throw new Error(
    `cannot install ${PACKAGE}@${VERSION} into ${prefix} (set AGENTROOM_SKIP_HARNESS=1 to skip): ` +
      stderr,
  );
}

async function inspect(launcher: string, method: string[], server: string[]) {
  const out = await new Deno.Command("node", {
    args: [launcher, "--cli", ...method, "--", Deno.execPath(), ...cliArgs(["mcp", ...server])],
    env: baseEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("mcp: the MCP Inspector CLI lists the tools and calls send", async () => {
  const launcher = await inspector();
  if (!launcher) return;
  const repo = uniqueRepo();
  // the Inspector (like the SDK's stdio client) passes only a few variables such as HOME
  // and PATH to the server it starts, so the Redis URL goes on the command line
  const server = ["--agent", "inspector", "--repo", repo, "--redis", shared.url];
  const listed = await inspect(launcher, ["--method", "tools/list"], server);
  assert.equal(listed.code, 0, listed.stderr);
  const names = (JSON.parse(listed.stdout).tools as { name: string }[]).map((t) => t.name);
  assert.ok(names.includes("send") && names.includes("request") && names.includes("guard"));

  const called = await inspect(launcher, [
    "--method",
    "tools/call",
    "--tool-name",
    "send",
    "--tool-arg",
    "message=hello from the inspector",
  ], server);
  assert.equal(called.code, 0, called.stdout + called.stderr);
  const result = JSON.parse(called.stdout);
  assert.equal(result.isError, undefined);
  assert.match(
    result.structuredContent.payload,
    /^\[room-data ([0-9a-f]{12})\] hello from the inspector \[\/room-data \1\]$/,
  );
  assert.match(result.content[0].text, /\[room-data [0-9a-f]{12}\]/);

  const tail = ok(await runCli(["--json", "tail", "--repo", repo]), "tail");
  const event = JSON.parse(tail.stdout.trim());
  assert.equal(event.id, result.structuredContent.id);
  assert.equal(event.payload, "hello from the inspector");

  const unknown = await inspect(
    launcher,
    ["--method", "tools/call", "--tool-name", "nope"],
    server,
  );
  assert.notEqual(unknown.code, 0);
});
