import assert from "node:assert/strict";
import { clusterSlot, escapeKeyPart, roomKeys } from "../src/keys.ts";
import { connectRedis } from "../src/redis/connect.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { startRedis } from "./support/redis.ts";

function allKeys(repo: string, branch: string, id: string): string[] {
  const k = roomKeys({ repo, branch });
  return [
    k.events,
    k.presenceIndex,
    k.typesSeen,
    k.catalog,
    k.openTasks,
    k.claims,
    k.presence(id),
    k.scratchpad(id),
    k.cursor(id),
    k.taskOwner(id),
    k.done,
    ...k.coordination,
    k.work,
    k.workExpiry,
    k.receipt(id, "1-0"),
    k.attempts(id),
    k.deadLetters(id),
    k.sweepLock(id),
  ];
}

Deno.test("clusterSlot() matches known Redis CLUSTER KEYSLOT values", () => {
  // Values from the Redis Cluster specification's CRC16 reference (XMODEM).
  assert.equal(clusterSlot("123456789"), 0x31c3 % 16384);
  assert.equal(clusterSlot("foo"), 12182);
  assert.equal(clusterSlot("{user1000}.following"), clusterSlot("user1000"));
});

Deno.test("clusterSlot() agrees with a real cluster-mode redis-server", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startRedis([
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    `${dir}/nodes.conf`,
  ]);
  const redis = await connectRedis(parseRedisUrl(server.url));
  try {
    const keys = [
      "foo{}{bar}",
      "{}",
      "a{b",
      ...allKeys("api", "main", "index"),
      ...allKeys("a:b", "{y}:z", "agent:{weird}"),
      ...allKeys("ünïcødé", "feature/x", "x y"),
    ];
    for (const key of keys) {
      assert.equal(clusterSlot(key), await redis.call(["CLUSTER", "KEYSLOT", key]), key);
    }
  } finally {
    await redis.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("roomKeys() puts every key of a room in one cluster slot", () => {
  const names = ["api", "a:b", "{x}", "has space", "ünïcødé", "}{", "index", "%41"];
  for (const repo of names) {
    for (const branch of ["main", "feature/x", "{y}:z"]) {
      const slots = new Set(allKeys(repo, branch, "agent:{weird}").map(clusterSlot));
      assert.equal(slots.size, 1, `${repo}/${branch} spans ${slots.size} slots`);
    }
  }
});

const FIXED = [
  "events",
  "presence-index",
  "types-seen",
  "catalog",
  "open-tasks",
  "claims",
  "done",
  "leases",
  "lease-expiry",
  "lease-resources",
  "windows",
  "windows-live",
  "windows-keep",
  "work",
  "work-expiry",
];

Deno.test("roomKeys() keeps hostile names from colliding", () => {
  const seen = new Map<string, string>();
  const hostile = [
    "index",
    "presence-index",
    "events",
    "a:b",
    "a",
    "b:c",
    "{x}",
    "x",
    "a b",
    "a-b",
    "é",
    "%3A",
    ":",
  ];
  for (const repo of ["a", "a:b"]) {
    for (const branch of ["b", "b:c", "c"]) {
      for (const id of hostile) {
        for (const key of allKeys(repo, branch, id)) {
          const owner = `${repo}|${branch}|${id}`;
          const previous = seen.get(key);
          // The fixed keys are shared by every id of the same room; nothing else may repeat.
          if (
            previous !== undefined && !FIXED.some((f) => key.endsWith(`:${f}`))
          ) {
            assert.fail(`${key} built for both ${previous} and ${owner}`);
          }
          seen.set(key, owner);
        }
      }
    }
  }
  const k = roomKeys({ repo: "r", branch: "b" });
  assert.notEqual(k.presence("index"), k.presenceIndex);
  assert.notEqual(k.presence("-index"), k.presenceIndex);
  assert.equal(k.events, "ar:{r:b}:events");
});

Deno.test("escapeKeyPart() escapes separators, braces, whitespace and percent", () => {
  assert.equal(escapeKeyPart("plain-name_1.2"), "plain-name_1.2");
  assert.equal(escapeKeyPart("a:b"), "a%3Ab");
  assert.equal(escapeKeyPart("{x}"), "%7Bx%7D");
  assert.equal(escapeKeyPart("a b\n"), "a%20b%0A");
  assert.equal(escapeKeyPart("100%"), "100%25");
  assert.equal(escapeKeyPart("ünï"), "ünï");
});
