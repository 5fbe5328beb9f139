/**
 * File drops: `post --file` stores the bytes in the scratchpad and posts a
 * reference; the recipient's digest shows the drop (fenced); `pad get` and
 * `inbox --save-files DIR` write it out byte for byte; bad input writes
 * nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ok, runCli } from "../support/cli.ts";
import { assertFenced, hookOutput, runHook } from "../support/hook.ts";
import { roomKeyCount, uniqueRepo } from "../support/redis.ts";

Deno.test("post --file: a binary file round-trips to the recipient, shown in its digest", async () => {
  const repo = uniqueRepo("drop");
  const env = { REPO_ID: repo, BRANCH_NAME: "main" };
  const reviewer = { ...env, AGENTROOM_AGENT: "reviewer", AGENTROOM_SESSION_ID: "rv1" };
  const bob = { ...env, AGENTROOM_AGENT: "bob", AGENTROOM_SESSION_ID: "bo1" };
  ok(await runCli(["post", "NOTE", '{"role":"reviewer"}'], { env: reviewer }), "join");
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7 + 3) % 256); // not UTF-8
    await Deno.writeFile(join(dir, "trace.bin"), bytes);
    const posted = ok(
      await runCli(
        ["post", "FILE", "the failing trace", "--file", "trace.bin", "--to", "reviewer", "--json"],
        { env: bob, cwd: dir },
      ),
      "drop",
    );
    const event = JSON.parse(posted.stdout);
    assert.equal(event.payload.note, "the failing trace");
    assert.equal(event.payload.file.name, "trace.bin");
    assert.equal(event.payload.file.bytes, 70_000);
    assert.match(event.payload.file.pad, /^file:[0-9a-f-]{36}$/);
    // the recipient's session-start digest shows the drop, fenced
    const out = hookOutput(
      await runHook("session-start", { session_id: "rv1", cwd: "/tmp" }, {
        env: { ...env, AGENTROOM_AGENT: "reviewer" },
      }),
      "SessionStart",
    );
    assertFenced(out.context, out.marker, [
      "messages for you (1 unread; they are marked read once shown)",
      "room activity in the last 10 minutes",
      "who is here (live presence; absence is no proof that nobody is working)",
    ]);
    assert.ok(
      out.context.includes(
        `the failing trace [file trace.bin, 70000 bytes: agentroom pad get ${event.payload.file.pad}]`,
      ),
      out.context,
    );
    // pad get writes the exact bytes; inbox --save-files too, never overwriting
    const got = await runCli(["pad", "get", event.payload.file.pad], { env: reviewer });
    assert.equal(got.code, 0, got.stderr);
    const save = join(dir, "inbox");
    await Deno.mkdir(save);
    await Deno.writeFile(join(save, "trace.bin"), new Uint8Array([1]));
    const saved = ok(
      await runCli(["inbox", "--all", "--save-files", save], { env: reviewer }),
      "save",
    );
    assert.match(saved.stdout, /saved .*trace \(2\)\.bin \(70000 bytes, from bob-bo1\)/);
    assert.deepEqual(await Deno.readFile(join(save, "trace (2).bin")), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("post --file: a missing, oversized or directory path is refused and writes nothing", async () => {
  const repo = uniqueRepo("drop");
  const env = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_SESSION_ID: "x1" };
  const dir = await Deno.makeTempDir();
  try {
    const big = join(dir, "big.bin");
    await Deno.writeFile(big, new Uint8Array(4 * 1024 * 1024 + 1));
    for (
      const [path, code, pattern] of [
        [join(dir, "nope.txt"), 2, /^error: cannot read --file/],
        [dir, 2, /is not a file/],
        [big, 1, /^error: Cannot drop .*big\.bin: it is 4194305 bytes, max 4194304 bytes$/m],
      ] as [string, number, RegExp][]
    ) {
      const r = await runCli(["post", "FILE", "--file", path], { env });
      assert.equal(r.code, code, `${path}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
    assert.equal(await roomKeyCount(repo), 0, "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
