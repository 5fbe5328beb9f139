/**
 * What the session-start digest says: the lobby's pinned WELCOME on a
 * session's first look, summaries instead of raw JSON for coordination and
 * work events, routine audit events as counts, and time left on the server
 * clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RoomEvent } from "../../src/codec.ts";
import { eventSummary } from "../../src/fence.ts";
import { ok, runCli } from "../support/cli.ts";
import { assertFenced, hookOutput, runHook } from "../support/hook.ts";
import { startRedis, uniqueRepo } from "../support/redis.ts";

function event(type: string, payload: RoomEvent["payload"]): RoomEvent {
  return { id: "1-0", type, agent_id: "a-1", payload, timestamp: 1 } as RoomEvent;
}

Deno.test("eventSummary(): coordination, task and work events lead with what matters", () => {
  const lease = { id: "x", owner: "a-1", purpose: "schema change", resources: ["path:src/db"] };
  assert.equal(
    eventSummary(event("LEASE_ACQUIRED", { schema_version: 1, lease })),
    "schema change: path:src/db",
  );
  assert.equal(
    eventSummary(event("WINDOW_REQUESTED", {
      window: { purpose: "migrate", resources: ["db:main", "path:src/db"], state: "pending" },
    })),
    "migrate: db:main path:src/db (pending)",
  );
  assert.equal(
    eventSummary(event("WORK_STATUS", {
      state: "blocked",
      scope: "auth",
      summary: "waiting for the schema",
      to: "bob-2",
    })),
    "waiting for the schema [blocked, auth] to bob-2",
  );
  assert.equal(
    eventSummary(event("TASK_DONE", { task_id: "9-0", task_type: "FIX", result: { ok: 1 } })),
    'FIX 9-0 result {"ok":1}',
  );
  assert.equal(
    eventSummary(event("SESSION_ENDED", { worked_on: "add retries", entries: 3 })),
    "worked on: add retries",
  );
  // anything else keeps its payload; malformed shapes never throw
  assert.equal(eventSummary(event("NOTE", { text: "hi" })), undefined);
  assert.equal(eventSummary(event("LEASE_ACQUIRED", "not an object")), undefined);
  assert.equal(eventSummary(event("LEASE_ACQUIRED", { lease: 42 })), undefined);
});

Deno.test("session-start: the pinned WELCOME once, summaries, audit counts", async () => {
  // its own server: the lobby (and its pinned WELCOME) is shared by every room
  const redis = await startRedis();
  try {
    const repo = uniqueRepo("dq");
    const env = { REPO_ID: repo, BRANCH_NAME: "main", AGENTROOM_REDIS_URL: redis.url };
    ok(await runCli(["welcome"], { env }), "welcome");
    const alice = { ...env, AGENTROOM_AGENT: "alice", AGENTROOM_SESSION_ID: "al1" };
    ok(
      await runCli(["lease", "acquire", "path:src/api", "--purpose", "rate limits"], {
        env: alice,
      }),
      "lease",
    );
    ok(
      await runCli(["work", "started", "--scope", "api", "--summary", "adding rate limits"], {
        env: alice,
      }),
      "work",
    );
    const session = { session_id: "5e55-1", cwd: "/tmp", hook_event_name: "SessionStart" };
    const first = hookOutput(await runHook("session-start", session, { env }), "SessionStart");
    const items = assertFenced(first.context, first.marker, [
      "resources leased by other agents (check with `agentroom guard <resource>` first)",
      "room activity in the last 10 minutes",
      "who is here (live presence; absence is no proof that nobody is working)",
      "lobby welcome (pinned)",
    ]);
    const m = first.marker;
    assert.ok(
      items.some((l) =>
        /^- ~1[45] min: /.test(l) &&
        l.includes(
          `[room-data ${m}] rate limits: path:src/api, held by alice-al1 [/room-data ${m}]`,
        )
      ),
      first.context,
    );
    assert.ok(
      items.some((l) =>
        l.includes("type=WORK_STATUS from=alice-al1 adding rate limits [started, api]")
      ),
      first.context,
    );
    assert.match(first.context, /^\(routine audit events not listed: 1 LEASE_ACQUIRED\)$/m);
    assert.ok(
      items.some((l) => l.includes("concierge: Welcome to the agentroom lobby")),
      first.context,
    );
    // the next session start of the same session does not repeat the welcome
    const again = hookOutput(await runHook("session-start", session, { env }), "SessionStart");
    assert.ok(!again.context.includes("lobby welcome (pinned)"), again.context);
  } finally {
    await redis.stop();
  }
});
