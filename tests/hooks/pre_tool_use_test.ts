import assert from "node:assert/strict";
import { closedPort, uniqueRepo } from "../support/redis.ts";
import { agent } from "../support/cli.ts";
import { editedFiles, pathResource } from "../../hooks/pre_tool_use.ts";
import { assertSilent, hookOutput, runHook } from "../support/hook.ts";

const SESSION = "mine5678-aaaa-bbbb-cccc-0123456789ab"; // token mine5678

/** A temporary checkout whose room is `repo`, plus a lease helper for other agents. */
async function checkout(fn: (top: string, repo: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  const top = `${root}/project`;
  await Deno.mkdir(`${top}/.git`, { recursive: true });
  await Deno.writeTextFile(`${top}/.git/HEAD`, "ref: refs/heads/main\n");
  try {
    await fn(top, uniqueRepo("ptu"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function edit(top: string, file: string, tool = "Edit") {
  const field = tool === "NotebookEdit" ? "notebook_path" : "file_path";
  return {
    session_id: SESSION,
    transcript_path: `${top}/transcript.jsonl`,
    cwd: top,
    permission_mode: "default",
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: { [field]: file, old_string: "a", new_string: "b" },
    tool_use_id: "toolu_01",
  };
}

async function lease(repo: string, session: string, resource: string): Promise<string> {
  const r = await agent(repo, session, "alice").run([
    "lease",
    "acquire",
    resource,
    "--purpose",
    "migrating the schema",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).id;
}

Deno.test("pre-tool-use warns when another agent's lease covers the file", async () => {
  await checkout(async (top, repo) => {
    await lease(repo, "other123", "path:src/db");
    const env = { REPO_ID: repo, BRANCH_NAME: "main" };
    for (const tool of ["Edit", "Write", "MultiEdit"]) {
      const out = hookOutput(
        await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`, tool), { env }),
        "PreToolUse",
      );
      assert.match(out.context, /path:src\/db\/schema\.sql is reserved by another agent/);
      assert.ok(
        out.context.includes(
          `[room-data ${out.marker}] alice-other123 holds path:src/db [/room-data ${out.marker}]`,
        ),
        out.context,
      );
    }
    // a sibling that merely shares a prefix is not covered
    assertSilent(await runHook("pre-tool-use", edit(top, `${top}/src/dbx/a.ts`), { env }));
  });
});

Deno.test("pre-tool-use: a file outside the repository is never covered, whatever is leased", async () => {
  await checkout(async (top, repo) => {
    const env = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_GUARD: "strict" };
    // leases that would cover these files if their paths were read as repo paths
    await lease(repo, "other123", "path:src/db");
    await lease(repo, "other456", "path:etc");
    const sibling = `${top}-copy/src/db/schema.sql`; // another checkout with the same layout
    for (const file of [sibling, `${top}/../project-copy/src/db/schema.sql`, "/etc/hosts"]) {
      assertSilent(await runHook("pre-tool-use", edit(top, file), { env }), file);
    }
    // the same leases do cover the repository's own files: the silence above is the path
    const inside = await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`), { env });
    assert.equal(JSON.parse(inside.stdout).hookSpecificOutput.permissionDecision, "deny");
  });
});

Deno.test("pre-tool-use denies in strict mode and allows the session's own lease", async () => {
  await checkout(async (top, repo) => {
    const env = { REPO_ID: repo, BRANCH_NAME: "main" };
    await lease(repo, "other123", "path:src/db");
    const strict = await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`), {
      env: { ...env, AGENTROOM_GUARD: "strict" },
    });
    assert.equal(strict.code, 0, strict.stderr);
    const decision = JSON.parse(strict.stdout).hookSpecificOutput;
    assert.equal(decision.hookEventName, "PreToolUse");
    assert.equal(decision.permissionDecision, "deny");
    assert.match(decision.permissionDecisionReason, /is reserved by another agent/);
    // this session's own lease (any handle of token mine5678) never blocks
    await lease(repo, "mine5678", "path:docs");
    assertSilent(
      await runHook("pre-tool-use", edit(top, `${top}/docs/guide.md`), {
        env: { ...env, AGENTROOM_GUARD: "strict" },
      }),
    );
  });
});

Deno.test("pre-tool-use reads Codex apply_patch targets relative to cwd", async () => {
  await checkout(async (top, repo) => {
    await lease(repo, "other123", "path:src/db/x.sql");
    const patch = [
      "*** Begin Patch",
      "*** Update File: src/app.ts",
      "@@",
      "-a",
      "+b",
      "*** Update File: src/db/x.sql",
      "*** End Patch",
    ].join("\n");
    const result = await runHook("pre-tool-use", {
      session_id: SESSION,
      turn_id: "turn-1",
      cwd: top,
      hook_event_name: "PreToolUse",
      model: "gpt-5-codex",
      tool_name: "apply_patch",
      tool_input: { command: ["apply_patch", patch] },
    }, { env: { REPO_ID: repo, BRANCH_NAME: "main" } });
    assert.match(hookOutput(result, "PreToolUse").context, /path:src\/db\/x\.sql is reserved/);
  });
});

Deno.test("pre-tool-use fails open: Redis down never blocks, even in strict mode", async () => {
  await checkout(async (top, repo) => {
    const url = `redis://127.0.0.1:${closedPort()}`;
    const env = { REPO_ID: repo, AGENTROOM_REDIS_URL: url, AGENTROOM_GUARD: "strict" };
    const file = `${top}/src/db/schema.sql`;
    assertSilent(await runHook("pre-tool-use", edit(top, file), { env, deadlineMs: 5_000 }));
    // why it was silent: Redis could not be reached (not a bad payload or an unleased path)
    const debug = await runHook("pre-tool-use", edit(top, file), {
      env: { ...env, AGENTROOM_HOOK_DEBUG: "1" },
      deadlineMs: 5_000,
    });
    assert.equal(debug.code, 0);
    assert.equal(debug.stdout, "");
    assert.match(
      debug.stderr,
      new RegExp(`^agentroom hook pre-tool-use: Cannot reach Redis at ${url}: .+\\n$`),
    );
  });
});

Deno.test("editedFiles() and pathResource() map tool inputs to repo paths", () => {
  assert.deepEqual(editedFiles("Edit", { file_path: "/r/a.ts" }), ["/r/a.ts"]);
  assert.deepEqual(editedFiles("NotebookEdit", { notebook_path: "/r/n.ipynb" }), ["/r/n.ipynb"]);
  assert.deepEqual(editedFiles("Bash", { command: "rm -rf /" }), []);
  assert.deepEqual(editedFiles("Edit", { file_path: 42 }), []);
  assert.deepEqual(
    editedFiles("apply_patch", {
      command: "*** Begin Patch\n*** Add File: a/new.ts\n*** Delete File: b.ts\n" +
        "*** Update File: c.ts\n*** Move to: d/e.ts\n*** End Patch",
    }),
    ["a/new.ts", "b.ts", "c.ts", "d/e.ts"],
  );
  assert.equal(pathResource("/r/src/a.ts", "/r", "/r"), "path:src/a.ts");
  assert.equal(pathResource("src/../b.ts", "/r/sub", "/r"), "path:sub/b.ts");
  assert.equal(pathResource("/elsewhere/a.ts", "/r", "/r"), undefined);
  assert.equal(pathResource("/r", "/r", "/r"), undefined);
});
