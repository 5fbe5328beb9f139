/**
 * Harness conformance, Codex: the real `codex` CLI (npm `@openai/codex`,
 * pinned in scripts/harness/install.ts) runs headless (`codex exec --json`)
 * against a scripted OpenAI Responses server on loopback (`wire_api =
 * "responses"`), in a throwaway git repository whose hooks were installed by
 * the real `agentroom setup codex --allow-network`, on a real Redis. Each
 * check runs on the case and on its control (the same scripted run with
 * agentroom's hook entries removed from the generated hooks.json); the case
 * must hold and the control must not.
 *
 * @module
 */
import { conformanceTests, playForeignScene, type Variant } from "./support/suite.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForTests } from "../../scripts/harness/install.ts";
import type { ModelServer } from "./support/anthropic.ts";
import { responsesInOrder, type ResponsesReply, startResponsesServer } from "./support/openai.ts";
import {
  harnessEnv,
  makeWorkspace,
  readFile,
  removeOurHooks,
  roomEvents,
  runHarness,
  setupHooks,
  type Workspace,
} from "./support/workspace.ts";

const prepared = await prepareForTests("codex");
const codex = prepared.state === "ready" ? prepared.harness : undefined;
if (prepared.state === "failed") {
  Deno.test("harness codex: install the pinned CLI", () => {
    throw prepared.error;
  });
}

/** The model Codex is told to use (with it, Codex offers `apply_patch` and `exec_command`). */
const MODEL = "gpt-5.5";

/** One `codex exec` run in a workspace, with its request log. */
interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
  threadId: string;
  requests: ModelServer["requests"];
}

/** Writes `$CODEX_HOME/config.toml`: the scripted provider, the trusted project. */
async function codexConfig(ws: Workspace, url: string): Promise<string> {
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

async function codexRun(
  ws: Workspace,
  prompt: string,
  steps: ResponsesReply[],
  resume?: string,
): Promise<CodexRun> {
  const server = startResponsesServer(responsesInOrder(steps));
  try {
    const home = await codexConfig(ws, server.url);
    const run = await runHarness(codex!.command, [
      ...codex!.prefix,
      "exec",
      ...(resume ? ["resume"] : []),
      "--json",
      "-m",
      MODEL,
      "--skip-git-repo-check",
      "--dangerously-bypass-hook-trust",
      ...(resume ? [resume] : []),
      prompt,
    ], {
      cwd: ws.dir,
      env: harnessEnv(ws, { CODEX_HOME: home, SCRIPTED_API_KEY: "test-key" }),
    });
    assert.equal(run.code, 0, `codex exec exited ${run.code}: ${run.stderr}\n${run.stdout}`);
    const started = run.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l)
    ).find((e) => e.type === "thread.started");
    assert.ok(started?.thread_id, `thread.started in ${run.stdout}`);
    return { ...run, threadId: String(started.thread_id), requests: [...server.requests] };
  } finally {
    await server.close();
  }
}

async function workspace(variant: Variant): Promise<Workspace> {
  const ws = await makeWorkspace(`codex-${variant}`);
  // --allow-network: the sandboxed shell may reach Redis (the own-lease case needs it)
  const hooks = await setupHooks(ws, "codex", ["--allow-network"]);
  if (variant === "control") await removeOurHooks(hooks);
  return ws;
}

/** A patch that bumps the constant of src/<name>.ts. */
function bump(name: "x" | "y"): ResponsesReply {
  return {
    custom: {
      name: "apply_patch",
      input: `*** Begin Patch\n*** Update File: src/${name}.ts\n@@\n` +
        `-export const ${name} = 1;\n+export const ${name} = 2;\n*** End Patch\n`,
    },
  };
}

/**
 * Bob posts a NOTE and leases src/x.ts; the session patches src/x.ts, then is
 * resumed (`codex exec resume`) after Bob posted another NOTE.
 */
async function foreignScene(variant: Variant) {
  const ws = await workspace(variant);
  return await playForeignScene(
    ws,
    (ask) => codexRun(ws, ask, [bump("x"), { text: "done" }]),
    (first) => codexRun(ws, "and now?", [{ text: "noted" }], first.threadId),
  );
}

interface OwnScene {
  ws: Workspace;
  run: CodexRun;
  yAfter: string;
  events: Record<string, unknown>[];
}

/**
 * The model leases src/y.ts through Codex's shell tool (`exec_command`), then
 * patches it. `prefix` goes before the `agentroom` command.
 */
async function ownScene(variant: Variant, prefix = ""): Promise<OwnScene> {
  const ws = await workspace(variant);
  const run = await codexRun(ws, "lease y, then bump it", [
    {
      call: {
        name: "exec_command",
        arguments: { cmd: `${prefix}agentroom lease acquire path:src/y.ts --purpose "bump y"` },
      },
    },
    bump("y"),
    { text: "done" },
  ]);
  return { ws, run, yAfter: await readFile(ws, "src/y.ts"), events: await roomEvents(ws) };
}

conformanceTests({
  name: "codex",
  ready: codex !== undefined,
  resume: "codex exec resume",
  resumedWord: "resumed",
  edit: "an apply_patch",
  shell: "the shell tool",
  foreignScene,
  ownScene,
});
