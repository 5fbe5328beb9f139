/**
 * `agentroom relay --tmux`: with a real tmux server (its own socket), the
 * messages addressed to the agent are typed into its pane as one tagged line
 * each, hostile content included; a shell pane is refused; a half-typed
 * prompt holds delivery until it is cleared; bad input exits 2.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RoomEvent } from "../../src/codec.ts";
import { halfTyped, isShell, relayLine } from "../../src/cli/relay.ts";
import { ok, runCli } from "../support/cli.ts";
import { until } from "../support/poll.ts";
import { uniqueRepo } from "../support/redis.ts";

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stdin: "null" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

/** A tmux server on its own socket with one pane running `command`. */
async function withPane(command: string, fn: (socket: string) => Promise<void>): Promise<void> {
  const socket = `agentroom-test-${crypto.randomUUID().slice(0, 8)}`;
  await tmux(
    socket,
    "-f",
    "/dev/null",
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    "200",
    "-y",
    "20",
    command,
  );
  try {
    await fn(socket);
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
  }
}

Deno.test("relayLine, isShell, halfTyped: one neutral line, shells and half-typed prompts seen", () => {
  const event = {
    id: "1-0",
    type: "QUESTION",
    agent_id: "bob-b1",
    payload: "line one\nrm -rf ~\u001b[2J\u001b]0;x\u0007 \u202eevil\u200b",
    timestamp: Date.UTC(2026, 11, 3, 9, 5),
  } as RoomEvent;
  assert.equal(relayLine(event), "[from bob-b1 @ 09:05] QUESTION: line one rm -rf ~ evil");
  assert.ok(relayLine({ ...event, payload: "x".repeat(2000) }).length <= 403);
  for (const s of ["bash", "-zsh", "sh", "fish", "dash", "pwsh"]) assert.ok(isShell(s), s);
  for (const s of ["claude", "codex", "node", "cat", "vim", "aider"]) assert.ok(!isShell(s), s);
  assert.ok(halfTyped("output\n> fix the bug in\n\n"));
  assert.ok(halfTyped("│ > draft reply │\n"));
  assert.ok(!halfTyped("output\n> \n"));
  assert.ok(!halfTyped("done.\n"));
});

Deno.test("relay --tmux types each message as one tagged line; hostile text stays one line", async () => {
  const repo = uniqueRepo("relay");
  const env = { REPO_ID: repo, BRANCH_NAME: "main" };
  const me = { ...env, AGENTROOM_AGENT: "builder", AGENTROOM_SESSION_ID: "bu1" };
  const bob = { ...env, AGENTROOM_AGENT: "bob", AGENTROOM_SESSION_ID: "bo1" };
  ok(await runCli(["post", "NOTE", '{"role":"builder"}'], { env: me }), "join");
  await withPane("cat", async (socket) => {
    ok(await runCli(["post", "QUESTION", "rebase please", "--to", "builder"], { env: bob }), "q1");
    ok(
      await runCli(
        ["post", "NOTE", "two\nlines\u001b[31m red; tmux send-keys C-c", "--to", "builder-bu1"],
        { env: bob },
      ),
      "q2",
    );
    const r = await runCli(["relay", "--tmux", "t", "--socket", socket, "--once"], { env: me });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^delivered /gm)?.length, 2, r.stdout);
    const pane = await until("both lines in the pane", async () => {
      const text = await tmux(socket, "capture-pane", "-p", "-t", "t");
      return text.includes("two lines red") ? text : undefined;
    });
    const lines = pane.split("\n").filter((l) => l.startsWith("[from "));
    // cat echoes each typed line and prints it back: each message is one line, twice
    assert.ok(
      lines.some((l) => /^\[from bob-bo1 @ \d\d:\d\d\] QUESTION: rebase please$/.test(l)),
      pane,
    );
    assert.ok(
      lines.some((l) =>
        /^\[from bob-bo1 @ \d\d:\d\d\] NOTE: two lines red; tmux send-keys C-c$/.test(l)
      ),
      pane,
    );
    assert.ok(!pane.includes("\u001b"));
    // delivered messages are read: a second run types nothing
    const again = await runCli(["relay", "--tmux", "t", "--socket", socket, "--once"], { env: me });
    assert.equal(again.stdout, "");
  });
});

Deno.test("relay --tmux holds while the pane shows a half-typed prompt; --force overrides", async () => {
  const repo = uniqueRepo("relay");
  const env = { REPO_ID: repo, BRANCH_NAME: "main" };
  const me = { ...env, AGENTROOM_AGENT: "builder", AGENTROOM_SESSION_ID: "bu2" };
  const bob = { ...env, AGENTROOM_AGENT: "bob", AGENTROOM_SESSION_ID: "bo2" };
  await withPane("cat", async (socket) => {
    ok(await runCli(["post", "NOTE", "hello", "--to", "builder-bu2"], { env: bob }), "msg");
    // someone is typing in the pane (cat echoes it, no Enter yet)
    await tmux(socket, "send-keys", "-t", "t", "-l", "> half a thought");
    await until(
      "the draft shows",
      async () =>
        (await tmux(socket, "capture-pane", "-p", "-t", "t")).includes("> half a thought"),
    );
    const held = await runCli(["relay", "--tmux", "t", "--socket", socket, "--once"], { env: me });
    assert.equal(held.code, 3, held.stderr);
    assert.match(held.stdout, /^held: pane t shows a half-typed prompt; retrying later$/m);
    assert.ok(!(await tmux(socket, "capture-pane", "-p", "-t", "t")).includes("[from "));
    // the human clears the draft (C-u kills the line): delivery goes through
    await tmux(socket, "send-keys", "-t", "t", "C-u");
    await until(
      "the draft is gone",
      async () =>
        !(await tmux(socket, "capture-pane", "-p", "-t", "t")).includes("> half a thought"),
    );
    const sent = await runCli(["relay", "--tmux", "t", "--socket", socket, "--once"], { env: me });
    assert.equal(sent.code, 0, sent.stderr);
    await until(
      "the message shows",
      async () => (await tmux(socket, "capture-pane", "-p", "-t", "t")).includes("NOTE: hello"),
    );
    // --force types even over a draft
    ok(await runCli(["post", "NOTE", "urgent", "--to", "builder-bu2"], { env: bob }), "msg2");
    await tmux(socket, "send-keys", "-t", "t", "-l", "> another draft");
    const forced = await runCli(
      ["relay", "--tmux", "t", "--socket", socket, "--once", "--force"],
      { env: me },
    );
    assert.equal(forced.code, 0, forced.stderr);
  });
});

Deno.test("relay --tmux refuses a shell pane; bad input exits 2", async () => {
  const repo = uniqueRepo("relay");
  const me = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_SESSION_ID: "bu3" };
  await withPane("sh", async (socket) => {
    ok(await runCli(["post", "NOTE", "x", "--to", "cli-bu3"], { env: me }), "msg");
    const r = await runCli(["relay", "--tmux", "t", "--socket", socket, "--once"], { env: me });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: tmux pane t runs a shell \(sh\)/);
  });
  for (
    const [args, pattern] of [
      [["relay"], /relay needs --tmux <target>/],
      [["relay", "--tmux", "t", "--interval", "soon"], /--interval must be a duration/],
      [["relay", "--tmux", "t", "extra"], /too many arguments/],
      [["relay", "--tmux"], /--tmux/],
    ] as [string[], RegExp][]
  ) {
    const r = await runCli(args, { env: me });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  // an unknown pane: one clear line, exit 1
  await withPane("cat", async (socket) => {
    ok(await runCli(["post", "NOTE", "y", "--to", "cli-bu3"], { env: me }), "msg");
    const r = await runCli(["relay", "--tmux", "nope:9", "--socket", socket, "--once"], {
      env: me,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: tmux [a-z-]+ failed: can't find/);
  });
});
