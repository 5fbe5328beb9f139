import assert from "node:assert/strict";
import { baseEnv, cliArgs } from "../support/cli.ts";

Deno.test("a hook whose stdin is never closed gives up at its deadline: exit 0, no output", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(["hook", "user-prompt-submit"]),
    env: { ...baseEnv(), AGENTROOM_HOOK_TIMEOUT_MS: "300" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000), // hang guard, not a timing assertion
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode('{"session_id":"open-stdin"')); // and never close
  const output = await child.output();
  assert.equal(output.signal, null, "killed by the hang guard");
  assert.equal(output.code, 0);
  assert.equal(new TextDecoder().decode(output.stdout), "");
  assert.equal(new TextDecoder().decode(output.stderr), "");
  await writer.close().catch(() => {});
});
