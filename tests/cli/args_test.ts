import assert from "node:assert/strict";
import {
  findCommand,
  intFlag,
  listFlag,
  parseCommandArgs,
  parseDuration,
  UsageError,
} from "../../src/cli/_args.ts";
import { tail } from "../../src/cli/tail.ts";

Deno.test("parseDuration() reads Go-style durations and rejects garbage", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("15m"), 900_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("2d"), 172_800_000);
  for (const bad of ["", "15", "m", "15x", "-5m", "1h 30m", "abc", "5m!", "1".repeat(50) + "s"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("findCommand() skips global flags and their values", () => {
  assert.deepEqual(findCommand(["--repo", "x", "post", "NOTE"]), { command: "post", index: 2 });
  assert.deepEqual(findCommand(["--json", "who"]), { command: "who", index: 1 });
  assert.deepEqual(findCommand(["--repo=x", "tail"]), { command: "tail", index: 1 });
  assert.deepEqual(findCommand(["--json"]), { command: "", index: -1 });
});

Deno.test("parseCommandArgs() accepts flags anywhere and rejects unknown ones", () => {
  const line = parseCommandArgs(
    "tail",
    ["--type", "A,B", "--json", "--type", "C", "--repo", "r"],
    tail.flags,
  );
  assert.deepEqual(listFlag(line.values.type), ["A", "B", "C"]);
  assert.equal(line.values.json, true);
  assert.equal(line.values.repo, "r");
  assert.throws(
    () => parseCommandArgs("tail", ["--nope"], tail.flags),
    (e: unknown) => e instanceof UsageError && e.message === "unknown flag --nope",
  );
  assert.throws(
    () => parseCommandArgs("tail", ["--count"], tail.flags),
    (e: unknown) => e instanceof UsageError && /--count needs a value/.test(e.message),
  );
  const dashed = parseCommandArgs("post", ["NOTE", "--", "-5"], {});
  assert.deepEqual(dashed.positionals, ["NOTE", "-5"]);
});

Deno.test("intFlag() accepts whole numbers only", () => {
  assert.equal(intFlag("tail", "count", undefined, 7), 7);
  assert.equal(intFlag("tail", "count", "12", 7), 12);
  for (const bad of ["-1", "abc", "1.5", "", "1e3", "9999999999"]) {
    assert.throws(() => intFlag("tail", "count", bad, 7), UsageError, bad);
  }
});
