/**
 * Test support: a busy room for the dashboard (its README screenshot and the
 * browser test of every panel): four agents with roles, leases, an active
 * quiet window, open/claimed/done tasks, work statuses, a thread, an ask for
 * the human, and a lobby note. Everything goes through the library.
 *
 * @module
 */
import type { JsonValue } from "../../src/codec.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { requestWindow } from "../../src/coordination/windows.ts";
import { setWorkStatus } from "../../src/coordination/work.ts";
import { type AgentIdentity, resolveIdentity } from "../../src/identity.ts";
import { heartbeat } from "../../src/presence.ts";
import type { Room } from "../../src/room.ts";
import { claimTask, completeTask, registerTask } from "../../src/tasks.ts";

/** What the busy room holds, for assertions. */
export interface BusyRoom {
  agents: Record<"alice" | "bob" | "carol" | "dave", AgentIdentity>;
  askId: string;
  threadRootId: string;
  claimedTaskId: string;
}

/**
 * Fills `room` (and a note in `lobby`).
 *
 * @param room the room
 * @param lobby the lobby
 * @param human the dashboard's human (the ask goes to them)
 */
export async function buildBusyRoom(
  room: Room,
  lobby: Room,
  human: AgentIdentity,
): Promise<BusyRoom> {
  const agents = {
    alice: resolveIdentity("alice", "a1f4"),
    bob: resolveIdentity("bob", "b7c2"),
    carol: resolveIdentity("carol", "c9d1"),
    dave: resolveIdentity("dave", "d3e5"),
  };
  const say = (agent: AgentIdentity, type: string, payload: JsonValue, extra = {}) =>
    room.publish({ type, agent, payload, ...extra });
  await heartbeat(room, { identity: agents.alice, description: "backend: auth token refresh" });
  await heartbeat(room, { identity: agents.bob, description: "frontend: login page" });
  await heartbeat(room, { identity: agents.carol, description: "reviewer: PR queue" });
  await heartbeat(room, { identity: agents.dave, description: "tests: flaky e2e suite" });
  await say(agents.alice, "STATUS", { role: "backend", working_on: "auth token refresh" });
  await say(agents.bob, "STATUS", { role: "frontend", working_on: "login page" });
  await registerTask(room, { type: "REVIEW", description: "review a change" });
  const r1 = await say(agents.alice, "REVIEW", { pr: 412, title: "refresh tokens on 401" });
  const r2 = await say(agents.bob, "REVIEW", { pr: 415, title: "login form validation" });
  await say(agents.dave, "REVIEW", { pr: 417, title: "retry flaky e2e login test" });
  await claimTask(room, { taskId: r1.id, agent: agents.carol, ttlMs: 20 * 60_000 });
  await claimTask(room, { taskId: r2.id, agent: agents.carol, ttlMs: 20 * 60_000 });
  await completeTask(room, { taskId: r2.id, agent: agents.carol, result: "approved" });
  await acquireLease(room, {
    agent: agents.alice,
    resources: ["path:src/auth"],
    purpose: "token refresh rewrite",
    ttlMs: 25 * 60_000,
  });
  await acquireLease(room, {
    agent: agents.bob,
    resources: ["path:web/login", "path:web/components/Form.tsx"],
    purpose: "login page",
    ttlMs: 12 * 60_000,
  });
  await acquireLease(room, {
    agent: agents.dave,
    resources: ["path:tests/e2e"],
    purpose: "stabilise e2e",
    ttlMs: 3 * 60_000,
  });
  await requestWindow(room, {
    agent: agents.carol,
    resources: ["path:db/migrations"],
    purpose: "schema migration",
    ttlMs: 8 * 60_000,
  });
  await setWorkStatus(room, {
    agent: agents.alice,
    state: "started",
    scope: "auth",
    summary: "refresh tokens server side",
  });
  await setWorkStatus(room, {
    agent: agents.bob,
    state: "blocked",
    scope: "login",
    summary: "waiting for the token endpoint",
  });
  await setWorkStatus(room, {
    agent: agents.dave,
    state: "waiting",
    scope: "e2e",
    summary: "needs a quiet window on db",
  });
  const root = await say(agents.bob, "QUESTION", "which endpoint returns the refreshed token?");
  await say(agents.alice, "ANSWER", "POST /auth/refresh, body {token}", {
    to: agents.bob.agent_id,
    reply_to: root.id,
  });
  await say(agents.bob, "NOTE", "thanks, wiring it now", { reply_to: root.id });
  await say(agents.dave, "NOTE", "e2e login test fails 1 in 5 on CI; investigating");
  await say(agents.carol, "NOTE", "PR 415 approved");
  const ask = await say(
    agents.alice,
    "ASK",
    "ok to rotate the staging signing key today?",
    { to: human.agent_id },
  );
  await lobby.publish({
    type: "NOTE",
    agent: agents.alice,
    payload: "demo/main: auth refresh in progress, ask before touching src/auth",
  });
  return { agents, askId: ask.id, threadRootId: root.id, claimedTaskId: r1.id };
}
