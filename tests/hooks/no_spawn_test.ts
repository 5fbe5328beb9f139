/**
 * The hook path never starts a process: every hook event runs to the end,
 * with no swallowed error, in a process that may not start any.
 */
import assert from "node:assert/strict";
import { RUN_PERMISSIONS } from "../../scripts/permissions.ts";
import { baseEnv, CLI } from "../support/cli.ts";
import { payload } from "../support/hook.ts";
import { uniqueRepo } from "../support/redis.ts";

const EVENTS: [string, string][] = [
  ["session-start", "claude_session_start"],
  ["user-prompt-submit", "claude_user_prompt_submit"],
  ["pre-tool-use", "claude_pre_tool_use_edit"],
  ["post-tool-use", "claude_post_tool_use"],
  ["stop", "claude_stop"],
  ["session-end", "claude_session_end"],
];

Deno.test("hooks run with --deny-run: no event needs to start a process", async () => {
  const permissions = RUN_PERMISSIONS.filter((p) => !p.startsWith("--allow-run"));
  assert.equal(permissions.length, RUN_PERMISSIONS.length - 1, "the binary may run something");
  const session_id = crypto.randomUUID();
  const env = {
    ...baseEnv(),
    REPO_ID: uniqueRepo("nospawn"),
    BRANCH_NAME: "main",
    AGENTROOM_HOOK_DEBUG: "1",
  };
  for (const [event, name] of EVENTS) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...permissions, "--deny-run", CLI, "hook", event],
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(15_000),
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(payload(name, { session_id }))));
    await writer.close();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${event}: ${stderr}`);
    assert.equal(stderr, "", `${event} swallowed an error`);
  }
});
