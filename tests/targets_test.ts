import assert from "node:assert/strict";
import type { PresenceEntry } from "../src/presence.ts";
import { resolveTarget } from "../src/targets.ts";

function entry(agent_id: string, handle: string): PresenceEntry {
  return { identity: { agent_id, handle, session_id: "s" }, description: "", ttl_ms: 1000 };
}
const live = [
  entry("reviewer-aaaa1111", "reviewer"),
  entry("builder-bbbb2222", "builder"),
  entry("builder-cccc3333", "builder"),
  entry("tester-dddd4444", "tester"),
];

Deno.test("resolveTarget() resolves exact id, unique handle and unique prefix", () => {
  assert.deepEqual(resolveTarget("builder-bbbb2222", live), {
    kind: "agent",
    to: "builder-bbbb2222",
    how: "exact",
  });
  assert.deepEqual(resolveTarget("reviewer", live), {
    kind: "agent",
    to: "reviewer-aaaa1111",
    how: "handle",
  });
  assert.deepEqual(resolveTarget("test", live), {
    kind: "agent",
    to: "tester-dddd4444",
    how: "prefix",
  });
});

Deno.test("resolveTarget() reports ambiguity and keeps room keys and unknowns verbatim", () => {
  assert.deepEqual(resolveTarget("builder", live), {
    kind: "ambiguous",
    candidates: ["builder-bbbb2222", "builder-cccc3333"],
  });
  assert.deepEqual(resolveTarget("b", live), {
    kind: "ambiguous",
    candidates: ["builder-bbbb2222", "builder-cccc3333"],
  });
  assert.deepEqual(resolveTarget("lobby:main", live), {
    kind: "verbatim",
    to: "lobby:main",
    reason: "room-key",
  });
  assert.deepEqual(resolveTarget("nobody", live), {
    kind: "verbatim",
    to: "nobody",
    reason: "no-match",
  });
  assert.deepEqual(resolveTarget("  ", []), { kind: "verbatim", to: "", reason: "empty" });
});
