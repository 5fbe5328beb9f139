import assert from "node:assert/strict";
import {
  agentHandle,
  qualifyAgent,
  resolveIdentity,
  sanitizeHandle,
  sessionToken,
  sessionTokenOf,
} from "../src/identity.ts";
import { InvalidValueError } from "../src/errors.ts";

Deno.test("sanitizeHandle() replaces pattern and separator characters with '-'", () => {
  assert.equal(sanitizeHandle("go_fixer.1@host"), "go_fixer.1@host");
  assert.equal(sanitizeHandle("a*b?c[d]"), "a-b-c-d-");
  assert.equal(sanitizeHandle("a:b c\td\ne\rf"), "a-b-c-d-e-f");
  assert.equal(sanitizeHandle("x\u001by"), "x-y");
});

Deno.test("sessionToken() follows the documented precedence", () => {
  const all = {
    agentroomSessionId: "aaaa-1",
    claudeCodeSessionId: "bbbb-2",
    claudeSessionId: "cccc-3",
    codexThreadId: "dddd-4",
    termSessionId: "eeee-5",
    hostname: "box",
    ppid: 42,
  };
  assert.equal(sessionToken(all), "aaaa-1");
  assert.equal(sessionToken({ ...all, agentroomSessionId: "" }), "bbbb-2");
  assert.equal(
    sessionToken({ ...all, agentroomSessionId: " ", claudeCodeSessionId: "" }),
    "cccc-3",
  );
  assert.equal(
    sessionToken({
      ...all,
      agentroomSessionId: undefined,
      claudeCodeSessionId: undefined,
      claudeSessionId: " ",
    }),
    "dddd-4",
  );
  assert.equal(sessionToken({ termSessionId: "eeee-5", hostname: "box", ppid: 1 }), "eeee-5");
  assert.equal(sessionToken({ hostname: "box", ppid: 42 }), "box-42");
  assert.equal(sessionToken({ ppid: 7 }), "cli-7");
});

Deno.test("sessionTokenOf() derives the token from the whole id, never a prefix", () => {
  assert.equal(sessionTokenOf(""), "session");
  assert.equal(sessionTokenOf(" s1 "), "s1");
  assert.equal(sessionTokenOf("reviewer_2.b"), "reviewer_2.b");
  // Codex thread ids are UUIDv7: two sessions started in the same minute share the
  // first 8 (even 12) hex digits, a timestamp. Their tokens must differ.
  const a = sessionTokenOf("019a4f3c-7d21-7b8e-9c4d-2f1a3b5c7d9e");
  const b = sessionTokenOf("019a4f3c-7d21-7f00-8a11-0b2c4d6e8f10");
  assert.match(a, /^[0-9a-f]{12}$/);
  assert.match(b, /^[0-9a-f]{12}$/);
  assert.notEqual(a, b);
  // stable across calls (hooks and the CLI must agree)
  assert.equal(sessionTokenOf("019a4f3c-7d21-7b8e-9c4d-2f1a3b5c7d9e"), a);
  // unsafe or long ids are hashed too: no separator or control character survives
  assert.match(sessionTokenOf("w0t0p0:ABCD"), /^[0-9a-f]{12}$/);
  assert.match(sessionTokenOf("x\u202ey"), /^[0-9a-f]{12}$/);
  assert.match(sessionTokenOf("ünïcødé"), /^[0-9a-f]{12}$/);
});

Deno.test("qualifyAgent() is idempotent and never double-qualifies", () => {
  assert.equal(qualifyAgent("reviewer", "tok12345"), "reviewer-tok12345");
  assert.equal(qualifyAgent("reviewer-tok12345", "tok12345"), "reviewer-tok12345");
  assert.equal(qualifyAgent("tok12345", "tok12345"), "tok12345");
  assert.equal(qualifyAgent("", "tok12345"), "tok12345");
  assert.equal(qualifyAgent("a:b", "t"), "a-b-t");
  assert.equal(qualifyAgent(qualifyAgent("x y", "t"), "t"), "x-y-t");
  assert.throws(() => qualifyAgent("x".repeat(101), "t"), InvalidValueError);
});

Deno.test("agentHandle() strips the token and resolveIdentity() defaults to cli", () => {
  assert.equal(agentHandle("reviewer-tok", "tok"), "reviewer");
  assert.equal(agentHandle("tok", "tok"), "");
  assert.equal(agentHandle("other-x", "tok"), "other-x");
  assert.deepEqual(resolveIdentity("", "tok"), {
    agent_id: "cli-tok",
    handle: "cli",
    session_id: "tok",
  });
  assert.deepEqual(resolveIdentity("bob", "tok"), {
    agent_id: "bob-tok",
    handle: "bob",
    session_id: "tok",
  });
});
