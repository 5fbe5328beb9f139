import assert from "node:assert/strict";
import {
  decodePayload,
  decodeStreamEntries,
  decodeStreamEntry,
  encodeEventFields,
} from "../src/codec.ts";

const base = {
  type: "NOTE",
  agent_id: "a-t",
  agent_handle: "a",
  session_id: "t",
  to: "",
  reply_to: "",
  payload: { text: "hi", n: [1, 2] },
  timestamp: 1763700000123,
};

Deno.test("encodeEventFields() and decodeStreamEntry() round-trip an event", () => {
  const fields = encodeEventFields(base);
  assert.deepEqual(fields.filter((_, i) => i % 2 === 0), [
    "type",
    "agent_id",
    "agent_handle",
    "session_id",
    "to",
    "reply_to",
    "payload",
    "timestamp",
  ]);
  const event = decodeStreamEntry(["1763700000123-0", fields]);
  assert.deepEqual(event, { id: "1763700000123-0", ...base });
});

Deno.test("decodeStreamEntry() tolerates foreign and partial entries", () => {
  const go = decodeStreamEntry(["1-0", [
    "type",
    "X",
    "payload",
    "not json",
    "timestamp",
    "1763700000123456789",
  ]]);
  assert.equal(go?.payload, "not json");
  assert.equal(go?.timestamp, 1763700000123);
  assert.equal(go?.agent_id, "");
  const noTime = decodeStreamEntry(["1763700000999-3", ["type", "X"]]);
  assert.equal(noTime?.timestamp, 1763700000999);
  assert.equal(noTime?.payload, null);
  assert.equal(decodeStreamEntry("garbage"), undefined);
  assert.equal(decodeStreamEntry(["1-0", "x"]), undefined);
  assert.deepEqual(
    decodeStreamEntries([["1-0", ["type", "A"]], 5, ["2-0", ["type", "B"]]]).map((e) => e.type),
    ["A", "B"],
  );
  assert.deepEqual(decodeStreamEntries(null), []);
});

Deno.test("decodePayload() keeps JSON as JSON and other text as a string", () => {
  assert.deepEqual(decodePayload('{"a":1}'), { a: 1 });
  assert.equal(decodePayload("42"), 42);
  assert.equal(decodePayload("hello"), "hello");
  assert.equal(decodePayload(""), null);
  assert.equal(decodePayload("{broken"), "{broken");
});
