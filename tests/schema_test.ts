/**
 * The data-layout version: stamped once a room has data, shown by doctor,
 * and a newer layout is refused with a clear message, writing nothing.
 */
import assert from "node:assert/strict";
import { roomConfig } from "../src/config.ts";
import { roomKeys } from "../src/keys.ts";
import {
  checkSchema,
  readSchemaVersion,
  SCHEMA_VERSION,
  SchemaTooNewError,
} from "../src/schema.ts";
import { runCli } from "./support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "./support/redis.ts";

Deno.test("schema: an empty room is not stamped; a room with data gets this version", async () => {
  const repo = uniqueRepo("schema");
  const config = roomConfig({ repo, branch: "main" });
  await withRedis(async (redis) => {
    assert.equal(await checkSchema(redis, config), 0);
    assert.equal(await roomKeyCount(repo), 0);
    const post = await runCli(["post", "NOTE", "hi", "--repo", repo, "--branch", "main"]);
    assert.equal(post.code, 0, post.stderr);
    assert.equal(await checkSchema(redis, config), SCHEMA_VERSION);
    assert.equal(await readSchemaVersion(redis, config), SCHEMA_VERSION);
    const ttl = Number(await redis.call(["PTTL", roomKeys(config).schema]));
    assert.ok(ttl > 0, "the stamp lapses with the room");
  });
});

Deno.test("schema: a room of a newer layout is refused by the CLI, nothing written", async () => {
  const repo = uniqueRepo("schema");
  const config = roomConfig({ repo, branch: "main" });
  await withRedis(async (redis) => {
    await redis.call(["SET", roomKeys(config).schema, String(SCHEMA_VERSION + 1)]);
    await assert.rejects(checkSchema(redis, config), SchemaTooNewError);
    const post = await runCli(["post", "NOTE", "hi", "--repo", repo, "--branch", "main"]);
    assert.equal(post.code, 1);
    assert.match(
      post.stderr,
      new RegExp(
        `^error: room ${repo}:main uses data layout ${
          SCHEMA_VERSION + 1
        }, newer than .*upgrade agentroom\\n$`,
      ),
    );
    assert.equal(await roomKeyCount(repo), 1, "only the stamp");
    const doctor = await runCli(["doctor", "--json", "--repo", repo, "--branch", "main"]);
    assert.equal(doctor.code, 1);
    const schema = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
      c.name === "schema"
    );
    assert.equal(schema.status, "fail");
  });
});
