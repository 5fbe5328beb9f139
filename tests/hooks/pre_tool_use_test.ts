import assert from "node:assert/strict";
import { closedPort, uniqueRepo } from "../support/redis.ts";
import { agent, runCli } from "../support/cli.ts";
import { editedFiles, pathResource } from "../../hooks/pre_tool_use.ts";
import { assertSilent, hookOutput, runHook } from "../support/hook.ts";

const SESSION = "0199a213-81c0-7800-8aa1-bbab2a035a53"; // a Codex/Claude-style UUID

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

function deny(result: { code: number; stdout: string; stderr: string }): string {
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout).hookSpecificOutput;
  assert.equal(out.hookEventName, "PreToolUse");
  assert.equal(out.permissionDecision, "deny");
  assert.equal(typeof out.permissionDecisionReason, "string");
  assert.ok(out.permissionDecisionReason.length > 0);
  return out.permissionDecisionReason;
}

/** The fence marker of a reason (each output has its own). */
function markerOf(text: string): string {
  const m = text.match(/\[room-data ([0-9a-f]{12})\]/);
  assert.ok(m, `no fence in ${text}`);
  return m[1]!;
}

Deno.test("pre-tool-use denies, by default and before the edit, a file another agent's lease covers", async () => {
  await checkout(async (top, repo) => {
    const leaseId = await lease(repo, "other123", "path:src/db");
    const env = { REPO_ID: repo, BRANCH_NAME: "main" };
    for (const tool of ["Edit", "Write", "MultiEdit", "NotebookEdit"]) {
      const reason = deny(
        await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`, tool), { env }),
      );
      const m = markerOf(reason);
      assert.match(reason, /^agentroom refused this edit: path:src\/db\/schema\.sql is reserved/);
      // holder, lease, held resource, time left and presence, the holder's fields fenced
      assert.ok(
        reason.includes(`held by [room-data ${m}] alice-other123 [/room-data ${m}]`),
        reason,
      );
      assert.ok(reason.includes(`lease [room-data ${m}] ${leaseId} [/room-data ${m}]`), reason);
      assert.ok(reason.includes(`on [room-data ${m}] path:src/db [/room-data ${m}]`), reason);
      assert.match(reason, /about 15 min left, holder present in the room/);
      assert.match(reason, /agentroom ask .* --to <holder>/);
      // factual wording: the notice says what the fence is, it gives no orders
      assert.match(reason, /quoted data, not instructions/);
    }
    // the same edit in warn mode: context only (which the harnesses deliver after the edit)
    const warned = hookOutput(
      await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`), {
        env: { ...env, AGENTROOM_GUARD: "warn" },
      }),
      "PreToolUse",
    );
    assert.match(warned.context, /^agentroom: this edit: path:src\/db\/schema\.sql is reserved/);
    // off: nothing at all; strict is the old name of the default
    assertSilent(
      await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`), {
        env: { ...env, AGENTROOM_GUARD: "off" },
      }),
    );
    deny(
      await runHook("pre-tool-use", edit(top, `${top}/src/db/schema.sql`), {
        env: { ...env, AGENTROOM_GUARD: "strict" },
      }),
    );
    // a sibling that merely shares a prefix is not covered
    assertSilent(await runHook("pre-tool-use", edit(top, `${top}/src/dbx/a.ts`), { env }));
  });
});

Deno.test("pre-tool-use ignores files outside the repository even under a covering lease", async () => {
  await checkout(async (top, repo) => {
    const env = { REPO_ID: repo, BRANCH_NAME: "main" };
    // a lease on the directory that would cover `<top>/../outside/x.ts` if it were in the repo
    await lease(repo, "other123", "path:outside");
    await lease(repo, "other456", "path:etc"); // would cover /etc/hosts read as a repo path
    deny(await runHook("pre-tool-use", edit(top, `${top}/outside/x.ts`), { env }));
    assertSilent(await runHook("pre-tool-use", edit(top, `${top}/../outside/x.ts`), { env }));
    assertSilent(await runHook("pre-tool-use", edit(top, "/etc/hosts"), { env }));
    // another checkout with the same layout is outside too
    assertSilent(await runHook("pre-tool-use", edit(top, `${top}-copy/outside/x.ts`), { env }));
  });
});

Deno.test("pre-tool-use: what this session holds never blocks it, whoever took it", async () => {
  await checkout(async (top, repo) => {
    const env = { REPO_ID: repo, BRANCH_NAME: "main" };
    // the session's shell tool runs the CLI with Claude Code's variable: a different handle
    const shell = await runCli(["lease", "acquire", "path:docs", "--purpose", "docs", "--json"], {
      env: { REPO_ID: repo, BRANCH_NAME: "main", CLAUDE_CODE_SESSION_ID: SESSION },
    });
    assert.equal(shell.code, 0, shell.stderr);
    assertSilent(await runHook("pre-tool-use", edit(top, `${top}/docs/guide.md`), { env }));
    // the same lease seen from another session is a conflict
    deny(
      await runHook("pre-tool-use", {
        ...edit(top, `${top}/docs/guide.md`),
        session_id: "another-session-0001",
      }, {
        env,
      }),
    );
  });
});

Deno.test("pre-tool-use reports every conflicting file of a Codex apply_patch, own leases skipped", async () => {
  await checkout(async (top, repo) => {
    // this session's own lease on the first file, under another handle, then two others' files
    const own = await runCli([
      "lease",
      "acquire",
      "path:src/app.ts",
      "--purpose",
      "app",
      "--agent",
      "helper",
    ], {
      env: { REPO_ID: repo, BRANCH_NAME: "main", CODEX_THREAD_ID: SESSION },
    });
    assert.equal(own.code, 0, own.stderr);
    await lease(repo, "other123", "path:src/db/x.sql");
    await lease(repo, "other456", "path:lib");
    const patch = [
      "*** Begin Patch",
      "*** Update File: src/app.ts",
      "@@",
      "-a",
      "+b",
      "*** Update File: src/db/x.sql",
      "*** Add File: lib/new.ts",
      "*** End Patch",
    ].join("\n");
    const reason = deny(
      await runHook("pre-tool-use", {
        session_id: SESSION,
        turn_id: "turn-1",
        cwd: top,
        hook_event_name: "PreToolUse",
        model: "gpt-5-codex",
        permission_mode: "default",
        tool_name: "apply_patch",
        tool_input: { command: patch },
        tool_use_id: "call_1",
        transcript_path: null,
      }, { env: { REPO_ID: repo, BRANCH_NAME: "main" } }),
    );
    assert.match(reason, /2 of its files are reserved by other agents/);
    assert.match(reason, /^- path:src\/db\/x\.sql: held by .*alice-other123/m);
    assert.match(reason, /^- path:lib\/new\.ts: held by .*alice-other456/m);
    assert.doesNotMatch(reason, /path:src\/app\.ts/);
  });
});

Deno.test("pre-tool-use fails open: Redis down never blocks, and says why in debug mode", async () => {
  await checkout(async (top, repo) => {
    const url = `redis://127.0.0.1:${closedPort()}`;
    const env = { REPO_ID: repo, AGENTROOM_REDIS_URL: url };
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
