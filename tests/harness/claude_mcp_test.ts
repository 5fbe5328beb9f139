/**
 * Harness conformance, Claude Code and the MCP server: the real `claude -p`
 * with the project `.mcp.json` that `agentroom setup claude` wrote (approved
 * in `.claude/settings.local.json`, as a user would approve it). The scripted
 * model calls `mcp__agentroom__send`: the NOTE is in the room under the
 * session's own agent (Claude Code passes `CLAUDE_CODE_SESSION_ID` to MCP
 * servers, so the server and the hooks are one agent), and the tool result
 * the model sees is fenced (Claude Code shows the model the structured
 * content). The control is the same run set up with `--no-mcp`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForTests } from "../../scripts/harness/install.ts";
import { sessionTokenOf } from "../../src/identity.ts";
import { ok, spawnCli } from "../support/cli.ts";
import { inOrder, startAnthropicServer } from "./support/anthropic.ts";
import {
  harnessEnv,
  makeWorkspace,
  roomEvents,
  runHarness,
  type Workspace,
} from "./support/workspace.ts";

const prepared = await prepareForTests("claude");
const claude = prepared.state === "ready" ? prepared.harness : undefined;
if (prepared.state === "failed") {
  Deno.test("harness claude mcp: install the pinned CLI", () => {
    throw prepared.error;
  });
}

async function workspace(noMcp: boolean): Promise<Workspace> {
  const ws = await makeWorkspace(`claude-mcp-${noMcp ? "control" : "case"}`);
  ok(
    await spawnCli(["setup", "claude", "--project", ...(noMcp ? ["--no-mcp"] : [])], {
      cwd: ws.dir,
      env: { HOME: ws.home },
      deadlineMs: 30_000,
    }),
    "setup claude",
  );
  // the user's approval of the project's MCP server (claude -p has no dialog)
  await Deno.writeTextFile(
    join(ws.dir, ".claude", "settings.local.json"),
    JSON.stringify({ enabledMcpjsonServers: ["agentroom"] }) + "\n",
  );
  return ws;
}

async function scene(noMcp: boolean, tag: string) {
  const ws = await workspace(noMcp);
  const server = startAnthropicServer(inOrder([
    { tool: { name: "mcp__agentroom__send", input: { message: `via mcp ${tag}` } } },
    { text: "done" },
  ]));
  try {
    const run = await runHarness(claude!.command, [
      ...claude!.prefix,
      "-p",
      "post a note through agentroom",
      "--output-format",
      "json",
      "--allowedTools",
      "mcp__agentroom__send",
    ], {
      cwd: ws.dir,
      env: harnessEnv(ws, {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "test-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      }),
    });
    assert.equal(run.code, 0, `claude -p exited ${run.code}: ${run.stderr}\n${run.stdout}`);
    const sessionId = String(JSON.parse(run.stdout).session_id);
    const messages = JSON.stringify(server.requests.at(-1)?.body?.messages ?? []);
    return { ws, sessionId, messages, events: await roomEvents(ws) };
  } finally {
    await server.close();
  }
}

Deno.test({
  name:
    "harness claude: the MCP server from .mcp.json is the session's agent, its result fenced (control: no MCP)",
  ignore: claude === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const caseRun = await scene(false, tag);
    const control = await scene(true, tag);
    try {
      const notes = (events: Record<string, unknown>[]) =>
        events.filter((e) => e.type === "NOTE" && e.payload === `via mcp ${tag}`);
      const [note] = notes(caseRun.events);
      assert.ok(note, `the NOTE is in the room: ${JSON.stringify(caseRun.events)}`);
      assert.equal(note.agent_id, `cli-${sessionTokenOf(caseRun.sessionId)}`);
      assert.match(
        caseRun.messages,
        /\[room-data ([0-9a-f]{12})\] via mcp [0-9a-f]{8} \[\/room-data \1\]/,
      );
      assert.deepEqual(notes(control.events), []);
      assert.ok(!control.messages.includes("[room-data"), "no fenced MCP result without MCP");
    } finally {
      await caseRun.ws.remove();
      await control.ws.remove();
    }
  },
});
