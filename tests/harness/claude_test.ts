/**
 * Harness conformance, Claude Code: the real `claude` CLI (npm
 * `@anthropic-ai/claude-code`, pinned in scripts/harness/install.ts) runs
 * headless (`claude -p`) against a scripted Anthropic Messages server on
 * loopback, in a throwaway git repository whose hooks were installed by the
 * real `agentroom setup claude`, on a real Redis. Each check runs on the case
 * and on its control (the same scripted run with agentroom's hook entries
 * removed from the generated settings); the case must hold and the control
 * must not.
 *
 * @module
 */
import { BOB, conformanceTests, playForeignScene, type Variant } from "./support/suite.ts";
import assert from "node:assert/strict";
import { prepareForTests } from "../../scripts/harness/install.ts";
import { ok } from "../support/cli.ts";
import {
  inOrder,
  type ModelServer,
  type Reply,
  startAnthropicServer,
} from "./support/anthropic.ts";
import { caseAndControl, mentions, requestTexts } from "./support/conformance.ts";
import {
  agentroomAs,
  harnessEnv,
  makeWorkspace,
  readFile,
  removeOurHooks,
  roomEvents,
  runHarness,
  setupHooks,
  type Workspace,
} from "./support/workspace.ts";

const prepared = await prepareForTests("claude");
const claude = prepared.state === "ready" ? prepared.harness : undefined;
if (prepared.state === "failed") {
  Deno.test("harness claude: install the pinned CLI", () => {
    throw prepared.error;
  });
}

/** One `claude -p` run in a workspace, with its request log. */
interface ClaudeRun {
  code: number;
  stdout: string;
  stderr: string;
  sessionId: string;
  requests: ModelServer["requests"];
}

async function claudeRun(
  ws: Workspace,
  prompt: string,
  steps: Reply[],
  extra: string[] = [],
): Promise<ClaudeRun> {
  const server = startAnthropicServer(inOrder(steps));
  try {
    const run = await runHarness(claude!.command, [
      ...claude!.prefix,
      "-p",
      prompt,
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--allowedTools",
      "Bash,Edit",
      ...extra,
    ], {
      cwd: ws.dir,
      env: harnessEnv(ws, {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "test-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      }),
    });
    assert.equal(run.code, 0, `claude -p exited ${run.code}: ${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(run.stdout);
    return { ...run, sessionId: String(result.session_id), requests: [...server.requests] };
  } finally {
    await server.close();
  }
}

async function workspace(variant: Variant): Promise<Workspace> {
  const ws = await makeWorkspace(`claude-${variant}`);
  const settings = await setupHooks(ws, "claude");
  if (variant === "control") await removeOurHooks(settings);
  return ws;
}

/**
 * Bob posts a NOTE and leases src/x.ts; the session edits src/x.ts, then is
 * resumed with a second prompt after Bob posted another NOTE.
 */
async function foreignScene(variant: Variant) {
  const ws = await workspace(variant);
  return await playForeignScene(
    ws,
    (ask) =>
      claudeRun(ws, ask, [
        {
          tool: {
            name: "Edit",
            input: {
              file_path: `${ws.dir}/src/x.ts`,
              old_string: "x = 1",
              new_string: "x = 2",
            },
          },
        },
        { text: "done" },
      ]),
    (first) =>
      claudeRun(ws, "and now?", [{ text: "noted" }], [
        "--resume",
        first.sessionId,
      ]),
  );
}

/** What one run of the "lease through the Bash tool, then edit" scene produced. */
interface OwnScene {
  ws: Workspace;
  run: ClaudeRun;
  yAfter: string;
  events: Record<string, unknown>[];
}

/**
 * The model leases src/y.ts through Claude Code's Bash tool, then edits it.
 * `prefix` goes before the `agentroom` command (the foreign control runs it
 * as another session).
 */
async function ownScene(variant: Variant, prefix = ""): Promise<OwnScene> {
  const ws = await workspace(variant);
  const run = await claudeRun(ws, "lease y, then bump it", [
    {
      tool: {
        name: "Bash",
        input: {
          command: `${prefix}agentroom lease acquire path:src/y.ts --purpose "bump y"`,
          description: "lease src/y.ts",
        },
      },
    },
    {
      tool: {
        name: "Edit",
        input: { file_path: `${ws.dir}/src/y.ts`, old_string: "y = 1", new_string: "y = 2" },
      },
    },
    { text: "done" },
  ]);
  return { ws, run, yAfter: await readFile(ws, "src/y.ts"), events: await roomEvents(ws) };
}

conformanceTests({
  name: "claude",
  ready: claude !== undefined,
  resume: "claude -p --resume",
  resumedWord: "resumed",
  edit: "an edit",
  shell: "the Bash tool",
  foreignScene,
  ownScene,
});

/** Every text of the requests sent after the first `n` (what the model saw later in the run). */
function laterTexts(requests: ModelServer["requests"], n: number): string[] {
  return requestTexts(requests.slice(n));
}

/**
 * Mid-turn delivery: the model's first tool call (Bash) runs while another
 * agent posts a question addressed to this session; the PostToolUse hook
 * puts it, fenced, next to that tool's result, so the model sees it before
 * the turn ends.
 */
async function midTurnScene(variant: Variant) {
  const ws = await workspace(variant);
  const tag = crypto.randomUUID().slice(0, 8);
  const question = `are you touching the billing module ${tag}`;
  try {
    const run = await claudeRun(ws, "check the tests", [
      {
        tool: {
          name: "Bash",
          input: {
            // another agent posts while this turn runs (its own session and handle)
            command: `AGENTROOM_SESSION_ID=${BOB} AGENTROOM_AGENT=bob agentroom post QUESTION ` +
              `"${question}" --to cli`,
            description: "run the checks",
          },
        },
      },
      { text: "done" },
    ]);
    // the request after the tool result carries the question, fenced
    // (the model's own Bash command names the question too: that line is not a delivery)
    const found = mentions(laterTexts(run.requests, 1), question)
      .filter((m) => !m.line.includes("agentroom post QUESTION"));
    const fenced = found.filter((m) => m.marker !== undefined);
    return {
      ws,
      verdict: {
        holds: fenced.length > 0 && fenced.length === found.length,
        detail: fenced.length > 0
          ? `fenced next to the tool result: ${fenced[0]!.line.slice(0, 160)}`
          : found.length > 0
          ? `present but not fenced: ${found[0]!.line.slice(0, 160)}`
          : "the question never reached the model during the turn",
      },
    };
  } catch (error) {
    await ws.remove();
    throw error;
  }
}

/**
 * Stop-time check: while the model writes its final answer, another agent
 * asks this session a question; the Stop hook blocks the stop once (the
 * model gets one more request whose instruction is agentroom's factual
 * reason), and lets the turn end after that.
 */
async function stopScene(variant: Variant) {
  const ws = await workspace(variant);
  const tag = crypto.randomUUID().slice(0, 8);
  const server = startAnthropicServer(
    inOrder([{ text: "all done", delayMs: 4_000 }, { text: "read them" }]),
  );
  try {
    const running = runHarness(claude!.command, [
      ...claude!.prefix,
      "-p",
      "summarise the repo",
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      "--allowedTools",
      "Bash",
    ], {
      cwd: ws.dir,
      env: harnessEnv(ws, {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "test-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      }),
    });
    // once the model is answering, another agent sends this session a question
    const deadline = Date.now() + 60_000;
    while (!server.requests.some((r) => Array.isArray(r.body?.tools))) {
      if (Date.now() > deadline) throw new Error("claude never asked the model");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    ok(
      await agentroomAs(
        ws,
        BOB,
        ["post", "QUESTION", `can you review my PR ${tag}`, "--to", "cli"],
        "bob",
      ),
      "bob asks",
    );
    const run = await running;
    assert.equal(run.code, 0, `claude -p exited ${run.code}: ${run.stderr}`);
    const reasons = server.requests.filter((r) =>
      requestTexts([r]).some((t) => t.includes("unread message addressed to you"))
    );
    const modelTurns = server.requests.filter((r) => Array.isArray(r.body?.tools)).length;
    return {
      ws,
      verdict: {
        // exactly one continuation: two model turns, the second carrying the reason
        holds: modelTurns === 2 && reasons.length === 1 &&
          !requestTexts(reasons).some((t) =>
            t.includes(`can you review my PR ${tag}`) && !t.includes("[room-data")
          ),
        detail: `${modelTurns} model turns, ${reasons.length} carrying agentroom's stop reason`,
      },
    };
  } catch (error) {
    await ws.remove();
    throw error;
  } finally {
    await server.close();
  }
}

Deno.test({
  name:
    "harness claude: a message reaches the model mid-turn; a waiting one makes Stop continue once",
  ignore: claude === undefined,
  async fn(t) {
    await t.step(
      "a directed message posted during the turn reaches the next tool result",
      async () => {
        const real = await midTurnScene("case");
        const control = await midTurnScene("control");
        try {
          caseAndControl(
            "claude",
            "a directed message posted mid-turn reaches the model at the next tool result, fenced",
            real.verdict,
            control.verdict,
          );
        } finally {
          await real.ws.remove();
          await control.ws.remove();
        }
      },
    );
    await t.step(
      "a message waiting at the end of the turn makes Stop continue it exactly once",
      async () => {
        const real = await stopScene("case");
        const control = await stopScene("control");
        try {
          caseAndControl(
            "claude",
            "a message waiting at the end of the turn makes the Stop hook continue it exactly once",
            real.verdict,
            control.verdict,
          );
        } finally {
          await real.ws.remove();
          await control.ws.remove();
        }
      },
    );
  },
});
