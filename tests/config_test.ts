import assert from "node:assert/strict";
import { DEFAULT_TUNABLES, LOBBY, roomConfig } from "../src/config.ts";
import { InvalidValueError } from "../src/errors.ts";

Deno.test("roomConfig() applies the documented defaults", () => {
  const c = roomConfig({ repo: "api", branch: "main" });
  assert.equal(c.streamTtlMs, 48 * 3_600_000);
  assert.equal(c.maxPayloadBytes, 16 * 1024);
  assert.equal(c.presenceTtlMs, 15 * 60_000);
  assert.equal(c.cursorTtlMs, 24 * 3_600_000);
  assert.equal(c.joinReplayMs, 10 * 60_000);
  assert.equal(c.streamMaxLen, 0, "trimming is off by default");
  assert.deepEqual({ ...c, repo: undefined, branch: undefined }, {
    ...DEFAULT_TUNABLES,
    repo: undefined,
    branch: undefined,
  });
});

Deno.test("roomConfig() maps the lobby to branch main and takes overrides", () => {
  assert.deepEqual(
    {
      repo: roomConfig({ repo: "lobby", branch: "feature" }).repo,
      branch: roomConfig({ repo: "lobby", branch: "x" }).branch,
    },
    { ...LOBBY },
  );
  assert.equal(roomConfig({ repo: "a", branch: "b" }, { presenceTtlMs: 500 }).presenceTtlMs, 500);
});

Deno.test("roomConfig() rejects empty, long and control-character names and bad tunables", () => {
  assert.throws(() => roomConfig({ repo: " ", branch: "main" }), InvalidValueError);
  assert.throws(() => roomConfig({ repo: "a", branch: "" }), InvalidValueError);
  assert.throws(() => roomConfig({ repo: "a".repeat(201), branch: "b" }), InvalidValueError);
  assert.throws(() => roomConfig({ repo: "a\nb", branch: "b" }), InvalidValueError);
  assert.throws(
    () => roomConfig({ repo: "a", branch: "b" }, { streamTtlMs: -1 }),
    InvalidValueError,
  );
  assert.throws(
    () => roomConfig({ repo: "a", branch: "b" }, { maxPayloadBytes: 1.5 }),
    InvalidValueError,
  );
});
