/**
 * Harness conformance, Codex and the MCP server: the real `codex` CLI, in its
 * default `workspace-write` sandbox without network, with the MCP server that
 * `agentroom setup codex` registered. Codex defers MCP tools behind its
 * `tool_search` tool (namespace `mcp__agentroom`); the scripted model finds
 * `send`, calls it, then runs `agentroom post` in the shell. The MCP call
 * reaches Redis (the server runs outside the sandbox) and its output comes
 * back fenced; the shell command cannot. The control is the same run with the
 * MCP registration left out (`setup --no-mcp`): the call has no tool to reach.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForTests } from "../../scripts/harness/install.ts";
import { ok } from "../support/cli.ts";
import { shared } from "../support/redis.ts";
import { responsesInOrder, type ResponsesReply, startResponsesServer } from "./support/openai.ts";
import {
  harnessEnv,
  makeWorkspace,
  roomEvents,
  runHarness,
  type Workspace,
} from "./support/workspace.ts";
import { spawnCli } from "../support/cli.ts";

const prepared = await prepareForTests("codex");
const codex = prepared.state === "ready" ? prepared.harness : undefined;
if (prepared.state === "failed") {
  Deno.test("harness codex mcp: install the pinned CLI", () => {
    throw prepared.error;
  });
}

const MODEL = "gpt-5.5";
const DENO_DIR = Deno.env.get("DENO_DIR") ??
  join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");

/** Sets up hooks and (unless `noMcp`) the MCP server; lets the server reach the test Redis. */
async function workspace(noMcp: boolean): Promise<Workspace> {
  const ws = await makeWorkspace(`codex-mcp-${noMcp ? "control" : "case"}`);
  ok(
    await spawnCli(["setup", "codex", "--project", ...(noMcp ? ["--no-mcp"] : [])], {
      cwd: ws.dir,
      env: { HOME: ws.home },
      deadlineMs: 30_000,
    }),
    "setup codex",
  );
  if (!noMcp) {
    const file = join(ws.dir, ".codex", "config.toml");
    const text = await Deno.readTextFile(file);
    assert.match(text, /^\[mcp_servers\.agentroom\]\ncommand = "agentroom"\nargs = \["mcp"\]$/m);
    // Codex passes MCP servers only HOME, PATH and PWD: the Redis URL and Deno's cache go in
    // the server's env table; with approval_policy "never" MCP calls need the server's approval
    await Deno.writeTextFile(
      file,
      text.replace(
        "[mcp_servers.agentroom]\n",
        '[mcp_servers.agentroom]\ndefault_tools_approval_mode = "approve"\n',
      ) +
        `\n[mcp_servers.agentroom.env]\nAGENTROOM_REDIS_URL = "${shared.url}"\n` +
        `DENO_DIR = ${JSON.stringify(DENO_DIR)}\nAGENTROOM_AGENT = "codexmcp"\n`,
    );
  }
  return ws;
}

async function codexHome(ws: Workspace, url: string): Promise<string> {
  const home = join(ws.home, ".codex");
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    join(home, "config.toml"),
    [
      `model = "${MODEL}"`,
      `model_provider = "scripted"`,
      `sandbox_mode = "workspace-write"`,
      `approval_policy = "never"`,
      ``,
      `[model_providers.scripted]`,
      `name = "scripted"`,
      `base_url = "${url}"`,
      `wire_api = "responses"`,
      `env_key = "SCRIPTED_API_KEY"`,
      ``,
      `[projects."${ws.dir}"]`,
      `trust_level = "trusted"`,
      ``,
    ].join("\n"),
  );
  return home;
}

async function scene(noMcp: boolean, tag: string) {
  const ws = await workspace(noMcp);
  const steps: ResponsesReply[] = [
    {
      raw: {
        type: "tool_search_call",
        execution: "client",
        status: "completed",
        arguments: { query: "agentroom send message" },
      },
    },
    {
      raw: {
        type: "function_call",
        namespace: "mcp__agentroom",
        name: "send",
        arguments: JSON.stringify({ message: `via mcp ${tag}` }),
        status: "completed",
      },
    },
    {
      call: { name: "exec_command", arguments: { cmd: `agentroom post NOTE "via shell ${tag}"` } },
    },
    { text: "done" },
  ];
  const server = startResponsesServer(responsesInOrder(steps));
  try {
    const home = await codexHome(ws, server.url);
    const run = await runHarness(codex!.command, [
      ...codex!.prefix,
      "exec",
      "--json",
      "-m",
      MODEL,
      "--skip-git-repo-check",
      "--dangerously-bypass-hook-trust",
      "post a note through agentroom",
    ], { cwd: ws.dir, env: harnessEnv(ws, { CODEX_HOME: home, SCRIPTED_API_KEY: "test-key" }) });
    assert.equal(run.code, 0, `codex exec exited ${run.code}: ${run.stderr}\n${run.stdout}`);
    const last = server.requests.at(-1)!;
    const outputs = JSON.stringify(last.body?.input ?? []);
    return { ws, events: await roomEvents(ws), outputs };
  } finally {
    await server.close();
  }
}

Deno.test({
  name:
    "harness codex: the MCP server runs outside the sandbox, its output fenced (control: no MCP)",
  ignore: codex === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const caseRun = await scene(false, tag);
    const control = await scene(true, tag);
    try {
      const payloads = (events: Record<string, unknown>[]) =>
        events.filter((e) => e.type === "NOTE").map((e) => e.payload);
      // case: the MCP call reached Redis; the sandboxed shell could not
      assert.deepEqual(payloads(caseRun.events), [`via mcp ${tag}`]);
      const note = caseRun.events.find((e) => e.type === "NOTE")!;
      assert.match(String(note.agent_id), /^codexmcp-/);
      assert.match(caseRun.outputs, /\[room-data [0-9a-f]{12}\] via mcp/);
      assert.match(caseRun.outputs, /operation not permitted/i);
      // control: nothing reached the room
      assert.deepEqual(payloads(control.events), []);
      assert.ok(!control.outputs.includes("[room-data"), "no fenced MCP output without MCP");
    } finally {
      await caseRun.ws.remove();
      await control.ws.remove();
    }
  },
});
