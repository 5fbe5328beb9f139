/**
 * The README's first command runs this demo: a broken demo is a failing test.
 * Runs `scripts/demo.ts` as a subprocess (its own throwaway Redis) and checks
 * that every scene passed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../scripts/demo.ts", import.meta.url));

Deno.test("the demo plays end to end: every step exits as expected", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", DEMO],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `demo failed:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`);
  assert.match(stdout, /demo finished: every step exited 0/);
  // the scenes that show the hooks at work
  assert.match(stdout, /permissionDecision: deny/);
  assert.match(stdout, /you are carol-[0-9a-f]{12} in room demo:main/);
});
