/**
 * Package hygiene: the compile task embeds exactly the permission set the
 * end-to-end tests use, its runtime-download failure is one line saying how
 * to use a local runtime, the public API names no ioredis type, and no stale
 * file is published.
 */
import assert from "node:assert/strict";
import { RUN_PERMISSIONS } from "../scripts/permissions.ts";
import {
  compileArgs,
  isRuntimeDownloadFailure,
  runtimeDownloadMessage,
  TARGETS,
} from "../scripts/compile.ts";
import { cliArgs } from "./support/cli.ts";

const permissionFlags = (args: readonly string[]) =>
  args.filter((a) => /^--(allow|deny)-/.test(a) || a === "-A");

Deno.test("the compile task's permission flags are the ones the end-to-end tests run with", () => {
  const tested = permissionFlags(cliArgs(["who"]));
  assert.deepEqual(tested, [...RUN_PERMISSIONS]);
  for (const target of TARGETS) assert.deepEqual(permissionFlags(compileArgs(target)), tested);
});

Deno.test("compile: a runtime that cannot be downloaded is one line naming DENORT_BIN", () => {
  assert.ok(isRuntimeDownloadFailure("error: Setting up base binary failed: dl.deno.land"));
  const message = runtimeDownloadMessage("x86_64-unknown-linux-gnu", "2.9.6");
  assert.equal(message.includes("\n"), false);
  assert.match(message, /DENORT_BIN=\/path\/to\/denort/);
  assert.match(message, /denort-x86_64-unknown-linux-gnu\.zip of Deno v2\.9\.6/);
});

Deno.test("the public API (mod.ts) names no ioredis type", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = new TextDecoder().decode(out.stdout);
  assert.doesNotMatch(doc, /npm:ioredis|redis\/ioredis\.ts|"(Redis|Cluster|RedisOptions)"/);
});

Deno.test("no stale files are published: hooks/README.md is gone", async () => {
  await assert.rejects(Deno.stat(new URL("../hooks/README.md", import.meta.url)));
});
