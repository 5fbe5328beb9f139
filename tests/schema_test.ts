/**
 * The data-layout version: recorded by the first event written, shown by
 * doctor; a newer layout is refused by the CLI with a clear message, and
 * nothing is written; reading never records anything.
 */
import assert from "node:assert/strict";
import { roomConfig } from "../src/config.ts";
import { roomKeys } from "../src/keys.ts";
import {
  checkSchema,
  readSchemaVersion,
  SCHEMA_FIELD,
  SCHEMA_VERSION,
  SchemaTooNewError,
} from "../src/schema.ts";
import { runCli } from "./support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "./support/redis.ts";

Deno.test("schema: the Lua scripts record the version this agentroom knows", async () => {
  const lib = await Deno.readTextFile(new URL("../src/lua/_lib.lua", import.meta.url));
  assert.equal(Number(/local LAYOUT_VERSION = (\d+)/.exec(lib)?.[1]), SCHEMA_VERSION);
  assert.equal(/local LAYOUT_FIELD = '([^']+)'/.exec(lib)?.[1], SCHEMA_FIELD);
  assert.match(SCHEMA_FIELD, /\s/, "never an event type (types have no whitespace)");
});

Deno.test("schema: a read records nothing; the first event records this version", async () => {
  const repo = uniqueRepo("schema");
  const config = roomConfig({ repo, branch: "main" });
  await withRedis(async (redis) => {
    assert.equal(await checkSchema(redis, config), undefined);
    assert.equal((await runCli(["who", "--repo", repo, "--branch", "main"])).code, 0);
    assert.equal(await roomKeyCount(repo), 0);
    const post = await runCli(["post", "NOTE", "hi", "--repo", repo, "--branch", "main"]);
    assert.equal(post.code, 0, post.stderr);
    assert.equal(await readSchemaVersion(redis, config), SCHEMA_VERSION);
    const doctor = await runCli(["doctor", "--json", "--repo", repo, "--branch", "main"]);
    const schema = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
      c.name === "schema"
    );
    assert.deepEqual([schema.status, schema.detail], ["ok", `data layout ${SCHEMA_VERSION}`]);
  });
});

Deno.test("schema: a room of a newer layout is refused by the CLI, nothing written", async () => {
  const repo = uniqueRepo("schema");
  const config = roomConfig({ repo, branch: "main" });
  await withRedis(async (redis) => {
    await redis.call(["HSET", roomKeys(config).typesSeen, SCHEMA_FIELD, SCHEMA_VERSION + 1]);
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
    assert.equal(await roomKeyCount(repo), 1, "only the layout record");
    assert.equal(await redis.call(["EXISTS", roomKeys(config).events]), 0);
    const doctor = await runCli(["doctor", "--json", "--repo", repo, "--branch", "main"]);
    assert.equal(doctor.code, 1);
    const schema = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
      c.name === "schema"
    );
    assert.equal(schema.status, "fail");
  });
});
