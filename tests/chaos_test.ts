/**
 * The chaos suite's short profile (`scripts/chaos/run.ts`): claims racing with
 * lapsing TTLs, random leases and windows against the model, kill -9 with AOF,
 * a hung server, OOM, shell workers killed mid-batch, fuzzing of the CLI and
 * the hooks, and a hostile corpus through every field that reaches a hook or a
 * terminal. Every check must find zero violations, and no process the suite
 * started may outlive it.
 */
import assert from "node:assert/strict";
import { markdownTable, runChaos } from "../scripts/chaos/run.ts";
import { runningChildren } from "../scripts/chaos/_lib.ts";

Deno.test("chaos suite, short profile: zero violations, no process left behind", async () => {
  const result = await runChaos("short");
  const table = markdownTable(result);
  assert.deepEqual(result.crashed, [], table);
  const failing = result.rows.filter((r) => (r.violations ?? 0) > 0);
  assert.deepEqual(failing, [], table);
  // every scenario ran and measured something
  for (const name of ["claims", "leases", "faults", "fuzz", "injection", "workers"]) {
    assert.ok(result.rows.some((r) => r.scenario === name && r.violations === 0), name);
  }
  assert.equal(runningChildren(), 0);
});
