import assert from "node:assert/strict";
import {
  agentHandle,
  qualifyAgent,
  resolveIdentity,
  sanitizeHandle,
  sessionToken,
  shortSession,
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
    agentroomSessionId: "aaaaaaaa-1",
    claudeSessionId: "bbbbbbbb-2",
    codexThreadId: "cccccccc-3",
    termSessionId: "dddddddd-4",
    hostname: "box",
    ppid: 42,
  };
  assert.equal(sessionToken(all), "aaaaaaaa");
  assert.equal(sessionToken({ ...all, agentroomSessionId: "" }), "bbbbbbbb");
  assert.equal(
    sessionToken({ ...all, agentroomSessionId: undefined, claudeSessionId: " " }),
    "cccccccc",
  );
  assert.equal(
    sessionToken({ termSessionId: "w0t0p0:ABCD", hostname: "box", ppid: 1 }),
    "w0t0p0-A",
  );
  assert.equal(sessionToken({ hostname: "box", ppid: 42 }), "box-42");
  assert.equal(sessionToken({ ppid: 7 }), "cli-7");
  assert.equal(shortSession(""), "session");
  assert.equal(shortSession("ünïcødé-long"), "ünïcødé-");
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
