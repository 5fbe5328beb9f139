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
import assert from "node:assert/strict";
import { prepareForTests } from "../../scripts/harness/install.ts";
import { ok } from "../support/cli.ts";
import {
  inOrder,
  type ModelServer,
  type Reply,
  startAnthropicServer,
} from "./support/anthropic.ts";
import {
  caseAndControl,
  deltaOnly,
  digestFenced,
  fileUnchanged,
  ownShellLease,
  sessionEndedAsk,
} from "./support/conformance.ts";
import {
  agentroomAs,
  FILES,
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

/** A case run has agentroom's hooks; its control has them removed. */
type Variant = "case" | "control";

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

/** Another agent (its own session) in the room. */
const BOB = "bob-session-7f3a9c";

/** What one run of the "another agent leases src/x.ts" scene produced. */
interface ForeignScene {
  ws: Workspace;
  ask: string;
  note: string;
  laterNote: string;
  first: ClaudeRun;
  second: ClaudeRun;
  xAfter: string;
  events: Record<string, unknown>[];
}

/**
 * Bob posts a NOTE and leases src/x.ts; the session edits src/x.ts, then is
 * resumed with a second prompt after Bob posted another NOTE.
 */
async function foreignScene(variant: Variant): Promise<ForeignScene> {
  const ws = await workspace(variant);
  const tag = crypto.randomUUID().slice(0, 8);
  const note = `deploy freeze until five ${tag}`;
  const laterNote = `freeze lifted ${tag}`;
  ok(await agentroomAs(ws, BOB, ["post", "NOTE", note], "bob"), "bob posts");
  ok(
    await agentroomAs(
      ws,
      BOB,
      ["lease", "acquire", "path:src/x.ts", "--purpose", "refactor"],
      "bob",
    ),
    "bob leases src/x.ts",
  );
  const ask = `bump x in src/x.ts ${tag}`;
  const first = await claudeRun(ws, ask, [
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
  ]);
  const xAfter = await readFile(ws, "src/x.ts");
  const events = await roomEvents(ws);
  ok(await agentroomAs(ws, BOB, ["post", "NOTE", laterNote], "bob"), "bob posts again");
  const second = await claudeRun(ws, "and now?", [{ text: "noted" }], [
    "--resume",
    first.sessionId,
  ]);
  return { ws, ask, note, laterNote, first, second, xAfter, events };
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

Deno.test({
  name: "harness claude: digest, delta, refused edit, SESSION_ENDED (case and control)",
  ignore: claude === undefined,
  async fn(t) {
    const real = await foreignScene("case");
    const control = await foreignScene("control");
    try {
      await t.step("the session-start digest reached the model, fenced", () => {
        caseAndControl(
          "claude",
          "the session-start digest reached the model, fenced",
          digestFenced(real.first.requests, real.note),
          digestFenced(control.first.requests, control.note),
        );
      });
      await t.step("the resumed session's next prompt carries only the delta", () => {
        caseAndControl(
          "claude",
          "the next prompt (claude -p --resume) carries only the delta",
          deltaOnly(real.first.requests, real.second.requests, real.laterNote, real.note),
          deltaOnly(
            control.first.requests,
            control.second.requests,
            control.laterNote,
            control.note,
          ),
        );
      });
      await t.step("an edit of another agent's leased file is refused (no guard variable)", () => {
        caseAndControl(
          "claude",
          "an edit of another agent's leased file is refused, the file unchanged",
          fileUnchanged("src/x.ts", FILES["src/x.ts"]!, real.xAfter, real.first.requests),
          fileUnchanged("src/x.ts", FILES["src/x.ts"]!, control.xAfter, control.first.requests),
        );
      });
      await t.step("SESSION_ENDED carries the opening ask", () => {
        caseAndControl(
          "claude",
          "SESSION_ENDED carries the opening ask",
          sessionEndedAsk(real.events, real.ask),
          sessionEndedAsk(control.events, control.ask),
        );
      });
    } finally {
      await real.ws.remove();
      await control.ws.remove();
    }
  },
});

Deno.test({
  name: "harness claude: a lease taken through the Bash tool does not block the same session",
  ignore: claude === undefined,
  async fn() {
    const real = await ownScene("case");
    const control = await ownScene("control");
    // a second control: the same script, the lease taken as another session
    const foreign = await ownScene("case", "AGENTROOM_SESSION_ID=someone-else-4d2e ");
    try {
      const check = (s: OwnScene) =>
        ownShellLease(
          s.events,
          s.run.requests,
          "path:src/y.ts",
          "src/y.ts",
          FILES["src/y.ts"]!,
          s.yAfter,
        );
      const verdict = check(real);
      caseAndControl(
        "claude",
        "a lease taken through the Bash tool is this session's own and does not block its edit",
        verdict,
        check(control),
      );
      caseAndControl(
        "claude",
        "(control: the same lease taken as another session blocks the edit)",
        verdict,
        check(foreign),
      );
    } finally {
      await real.ws.remove();
      await control.ws.remove();
      await foreign.ws.remove();
    }
  },
});
