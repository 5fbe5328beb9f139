/**
 * The hook deadline aborts the work: against a server that accepts and never
 * answers, the hook returns with exit code 0, writes nothing, and has closed
 * its connection by the time it returns (the server sees the close).
 */
import assert from "node:assert/strict";
import { runHook } from "../../hooks/mod.ts";
import { payload } from "../support/hook.ts";
import { silentServer } from "../support/silent_server.ts";

for (
  const [event, name, auth] of [
    ["session-start", "claude_session_start", false],
    ["user-prompt-submit", "claude_user_prompt_submit", false],
    ["pre-tool-use", "claude_pre_tool_use_edit", false],
    ["session-end", "claude_session_end", false],
    // AUTH never answered: the deadline stops the connect itself
    ["session-start", "claude_session_start", true],
  ] as const
) {
  Deno.test(`${event}${auth ? " (AUTH)" : ""}: the deadline closes the silent connection, prints nothing, exit 0`, async () => {
    const server = silentServer();
    try {
      const written: string[] = [];
      const debug: string[] = [];
      const code = await runHook(event, {
        stdin: JSON.stringify(payload(name, { session_id: crypto.randomUUID() })),
        env: (key) =>
          ({
            AGENTROOM_REDIS_URL: `redis://${auth ? ":pw@" : ""}127.0.0.1:${server.port}`,
            REPO_ID: "r",
            BRANCH_NAME: "main",
            AGENTROOM_HOOK_TIMEOUT_MS: "200",
          })[key],
        cwd: Deno.cwd(),
        write: (line) => written.push(line),
        debug: (message) => debug.push(message),
      });
      assert.equal(code, 0);
      assert.deepEqual(written, []);
      assert.deepEqual(debug, [`agentroom hook ${event}: deadline of 200 ms passed`]);
      assert.equal(server.accepted(), 1, "the hook connected to the silent server");
      // The hook has returned: its socket must be closed already, not at process exit.
      await server.closedByClient(0);
    } finally {
      await server.close();
    }
  });
}
