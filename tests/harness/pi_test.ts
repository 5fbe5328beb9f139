/**
 * Harness conformance, pi: the real `pi` CLI (npm
 * `@mariozechner/pi-coding-agent`, pinned in scripts/harness/install.ts; it
 * runs on Node 20) runs headless (`pi --offline -p --mode json`) against the
 * scripted Anthropic Messages server on loopback (a provider declared in
 * `models.json`), in a throwaway git repository where the real `agentroom
 * setup pi` wrote its extension (`.pi/extensions/agentroom.ts`, which runs
 * `agentroom hook <event>` for pi's session_start, before_agent_start,
 * tool_call and session_shutdown), on a real Redis. Each check runs on the
 * case and on its control (the same scripted run with agentroom's extension
 * removed); the case must hold and the control must not.
 *
 * @module
 */
import { conformanceTests, playForeignScene, type Variant } from "./support/suite.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForTests } from "../../scripts/harness/install.ts";
import {
  inOrder,
  type ModelServer,
  type Reply,
  startAnthropicServer,
} from "./support/anthropic.ts";
import {
  harnessEnv,
  makeWorkspace,
  readFile,
  roomEvents,
  runHarness,
  setupHooks,
  type Workspace,
} from "./support/workspace.ts";

const prepared = await prepareForTests("pi");
const pi = prepared.state === "ready" ? prepared.harness : undefined;
if (prepared.state === "failed") {
  Deno.test("harness pi: install the pinned CLI", () => {
    throw prepared.error;
  });
}

/** A case run has agentroom's extension; its control has it removed. */
/** One `pi -p` run in a workspace, with its request log. */
interface PiRun {
  code: number;
  stdout: string;
  stderr: string;
  requests: ModelServer["requests"];
}

async function piRun(
  ws: Workspace,
  prompt: string,
  steps: Reply[],
  extra: string[] = [],
): Promise<PiRun> {
  const server = startAnthropicServer(inOrder(steps));
  try {
    const agentDir = join(ws.home, ".pi", "agent");
    await Deno.mkdir(agentDir, { recursive: true });
    await Deno.writeTextFile(
      join(agentDir, "models.json"),
      JSON.stringify({
        providers: {
          scripted: {
            baseUrl: server.url,
            api: "anthropic-messages",
            apiKey: "test-key",
            models: [{ id: "scripted-model" }],
          },
        },
      }),
    );
    const run = await runHarness(pi!.command, [
      ...pi!.prefix,
      "--offline",
      "--provider",
      "scripted",
      "--model",
      "scripted-model",
      "--session-dir",
      join(ws.home, "pi-sessions"),
      "--mode",
      "json",
      ...extra,
      "-p",
      prompt,
    ], { cwd: ws.dir, env: harnessEnv(ws, { PI_OFFLINE: "1" }) });
    assert.equal(run.code, 0, `pi exited ${run.code}: ${run.stderr}\n${run.stdout.slice(-2000)}`);
    return { ...run, requests: [...server.requests] };
  } finally {
    await server.close();
  }
}

async function workspace(variant: Variant): Promise<Workspace> {
  const ws = await makeWorkspace(`pi-${variant}`);
  const extension = await setupHooks(ws, "pi");
  // the control: agentroom's extension (its only hook entries) removed
  if (variant === "control") await Deno.remove(extension);
  return ws;
}

/**
 * Bob posts a NOTE and leases src/x.ts; the session writes src/x.ts, then is
 * continued (`pi --continue`) after Bob posted another NOTE.
 */
async function foreignScene(variant: Variant) {
  const ws = await workspace(variant);
  return await playForeignScene(
    ws,
    (ask) =>
      piRun(ws, ask, [
        { tool: { name: "write", input: { path: "src/x.ts", content: "export const x = 2;\n" } } },
        { text: "done" },
      ]),
    () => piRun(ws, "and now?", [{ text: "noted" }], ["--continue"]),
  );
}

interface OwnScene {
  ws: Workspace;
  run: PiRun;
  yAfter: string;
  events: Record<string, unknown>[];
}

/** The model leases src/y.ts through pi's bash tool, then writes it. */
async function ownScene(variant: Variant, prefix = ""): Promise<OwnScene> {
  const ws = await workspace(variant);
  const run = await piRun(ws, "lease y, then bump it", [
    {
      tool: {
        name: "bash",
        input: { command: `${prefix}agentroom lease acquire path:src/y.ts --purpose "bump y"` },
      },
    },
    { tool: { name: "write", input: { path: "src/y.ts", content: "export const y = 2;\n" } } },
    { text: "done" },
  ]);
  return { ws, run, yAfter: await readFile(ws, "src/y.ts"), events: await roomEvents(ws) };
}

conformanceTests({
  name: "pi",
  ready: pi !== undefined,
  resume: "pi --continue",
  resumedWord: "continued",
  edit: "a write",
  shell: "the bash tool",
  foreignScene,
  ownScene,
});
