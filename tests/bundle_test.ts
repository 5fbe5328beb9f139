/**
 * The hook bundle (`deno task bundle`) is built from the sources and answers
 * every hook event exactly as the sources do (same room state, two sessions;
 * only the random fence marker and the session differ).
 */
import assert from "node:assert/strict";
import { RUN_PERMISSIONS } from "../scripts/permissions.ts";
import { bundleHooks } from "../scripts/bundle/build.ts";
import { sessionTokenOf } from "../src/identity.ts";
import { baseEnv, runCli } from "./support/cli.ts";
import { payload, spawnHook } from "./support/hook.ts";
import { uniqueRepo } from "./support/redis.ts";

async function bundled(
  entry: string,
  event: string,
  stdin: Record<string, unknown>,
  env: Record<string, string>,
): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-config", "--no-lock", ...RUN_PERMISSIONS, entry, event],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(stdin)));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

function normalized(text: string, session: string, repo: string): string {
  return text
    .replace(/room-data [0-9a-f]+/g, "room-data MARKER")
    .replace(/\b\d{13}-\d+\b/g, "EVENT-ID")
    .replace(/\b[0-9a-f]{32}\b/g, "LEASE-ID")
    .replaceAll(repo, "REPO")
    .replaceAll(session, "SESSION")
    .replaceAll(sessionTokenOf(session), "TOKEN");
}

/** A room with another agent's lease and note in it; returns its environment. */
async function room(): Promise<Record<string, string>> {
  const env = { REPO_ID: uniqueRepo("bundle"), BRANCH_NAME: "main", AGENTROOM_HOOK_DEBUG: "1" };
  const other = { ...env, AGENTROOM_SESSION_ID: "holder-1", AGENTROOM_AGENT: "holder" };
  const lease = await runCli(
    ["lease", "acquire", "path:src/auth/session.ts", "--purpose", "refactor"],
    { env: other },
  );
  assert.equal(lease.code, 0, lease.stderr);
  assert.equal((await runCli(["post", "NOTE", "hello from the holder"], { env: other })).code, 0);
  return env;
}

Deno.test("the hook bundle answers every event as the sources do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "agentroom-bundle-" });
  try {
    const entry = await bundleHooks(dir);
    // two rooms in the same state: one answered by the sources, one by the bundle
    const [envA, envB] = [await room(), await room()];

    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    const events: [string, string][] = [
      ["session-start", "claude_session_start"],
      ["user-prompt-submit", "claude_user_prompt_submit"],
      ["pre-tool-use", "claude_pre_tool_use_edit"],
      ["post-tool-use", "claude_post_tool_use"],
      ["stop", "claude_stop"],
      ["session-end", "claude_session_end"],
    ];
    let denied = false;
    for (const [event, name] of events) {
      const fromSource = await spawnHook(event, payload(name, { session_id: a }), { env: envA });
      assert.equal(fromSource.code, 0, fromSource.stderr);
      assert.equal(fromSource.stderr, "", `${event} from source swallowed an error`);
      const fromBundle = await bundled(entry, event, payload(name, { session_id: b }), envB);
      assert.equal(
        normalized(fromBundle, b, envB.REPO_ID!),
        normalized(fromSource.stdout, a, envA.REPO_ID!),
        event,
      );
      if (event === "pre-tool-use") denied = fromSource.stdout.includes('"deny"');
    }
    assert.ok(denied, "the comparison covered a deny");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
