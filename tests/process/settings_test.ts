import assert from "node:assert/strict";
import { InvalidValueError } from "../../src/errors.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { resolveCluster } from "../../src/process/settings.ts";

const endpoint = parseRedisUrl("redis://127.0.0.1:7000");
const lookup = (value: string | undefined) => (name: string) =>
  name === "AGENTROOM_REDIS_CLUSTER" ? value : undefined;

Deno.test("resolveCluster(): 1/true/yes turn cluster mode on; unset, empty, 0/false/no leave it off", () => {
  for (const value of ["1", "true", "yes", "TRUE", "Yes", " 1 "]) {
    assert.equal(resolveCluster(lookup(value), endpoint), true, value);
  }
  for (const value of [undefined, "", "  ", "0", "false", "no", "NO"]) {
    assert.equal(resolveCluster(lookup(value), endpoint), false, String(value));
  }
});

Deno.test("resolveCluster(): any other value, or a database other than 0, is rejected", () => {
  for (const value of ["2", "on", "enabled", "y", "cluster"]) {
    assert.throws(
      () => resolveCluster(lookup(value), endpoint),
      (error: Error) =>
        error instanceof InvalidValueError &&
        error.message ===
          `AGENTROOM_REDIS_CLUSTER must be 1, true or yes (or 0, false, no), got ${
            JSON.stringify(value)
          }`,
      value,
    );
  }
  const db3 = parseRedisUrl("redis://:secret@127.0.0.1:7000/3");
  assert.throws(
    () => resolveCluster(lookup("1"), db3),
    (error: Error) =>
      error instanceof InvalidValueError &&
      /^Redis Cluster has only database 0, but .* selects database 3$/.test(error.message) &&
      !error.message.includes("secret"),
  );
  // off: a database is fine
  assert.equal(resolveCluster(lookup("0"), db3), false);
});

Deno.test("connectRedis({ cluster: true }) rejects a database other than 0 before connecting", async () => {
  await assert.rejects(
    connectRedis(parseRedisUrl("redis://127.0.0.1:1/2"), { cluster: true }),
    InvalidValueError,
  );
});
