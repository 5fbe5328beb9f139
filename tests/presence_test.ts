import assert from "node:assert/strict";
import { resolveIdentity } from "../src/identity.ts";
import {
  clearPresence,
  clearSessionPresence,
  heartbeat,
  joinDescription,
  refreshPresence,
  roster,
} from "../src/presence.ts";
import { withRoom } from "./support/room.ts";

const s1 = "sess0001";
const alice = resolveIdentity("alice", s1);
const bare = { agent_id: s1, handle: "", session_id: s1 };
const bob = resolveIdentity("bob", "sess0002");

Deno.test("heartbeat() labels and refreshPresence() keeps the label", async () => {
  await withRoom(async (room) => {
    await heartbeat(room, { identity: alice, description: "reviewer: auth" });
    await refreshPresence(room, alice);
    await refreshPresence(room, bob);
    const entries = await roster(room);
    assert.deepEqual(entries.map((e) => [e.identity.agent_id, e.description]), [
      ["alice-sess0001", "reviewer: auth"],
      ["bob-sess0002", ""],
    ]);
    assert.deepEqual(entries[0]!.identity, alice);
    assert.ok(entries.every((e) => e.ttl_ms > 14 * 60_000 && e.ttl_ms <= 15 * 60_000));
  });
});

Deno.test("heartbeat() sanitises and clips descriptions", async () => {
  await withRoom(async (room) => {
    await heartbeat(room, {
      identity: alice,
      description: "line1\nline2\u001b[31m" + "x".repeat(300),
    });
    const [entry] = await roster(room);
    assert.ok(entry!.description.startsWith("line1 line2x"));
    assert.equal(Array.from(entry!.description).length, 163);
    assert.equal(joinDescription("reviewer", ""), "reviewer");
    assert.equal(joinDescription("", "auth"), "auth");
    assert.equal(joinDescription("r", "w"), "r: w");
  });
});

Deno.test("roster() drops expired agents on the server clock", async () => {
  await withRoom(async (room, redis) => {
    await heartbeat(room, { identity: alice, description: "short-lived" });
    await refreshPresence(room, bob);
    const expired = await new Promise<string[]>((resolve, reject) => {
      // wait for the record's own TTL rather than a fixed sleep
      const started = Date.now();
      const poll = async () => {
        const live = (await roster(room)).map((e) => e.identity.agent_id);
        if (!live.includes(alice.agent_id)) resolve(live);
        else if (Date.now() - started > 3_000) reject(new Error("presence never expired"));
        else setTimeout(poll, 20);
      };
      poll();
    });
    assert.deepEqual(expired, []);
    assert.equal(await redis.call(["ZCARD", room.keys.presenceIndex]), 0);
  }, { tunables: { presenceTtlMs: 150 } });
});

Deno.test("roster() survives an agent named 'index' and a vanished record", async () => {
  await withRoom(async (room, redis) => {
    const index = resolveIdentity("index", "");
    await refreshPresence(room, { ...index, agent_id: "index" });
    await refreshPresence(room, alice);
    await redis.call(["DEL", room.keys.presence(alice.agent_id)]);
    const entries = await roster(room);
    assert.deepEqual(entries.map((e) => e.identity.agent_id), ["index"]);
    assert.equal(await redis.call(["ZSCORE", room.keys.presenceIndex, alice.agent_id]), null);
    assert.equal(await redis.call(["TYPE", room.keys.presenceIndex]), "zset");
  });
});

Deno.test("roster() reads legacy plain-text records", async () => {
  await withRoom(async (room, redis) => {
    await refreshPresence(room, bob);
    await redis.call(["SET", room.keys.presence(bob.agent_id), "old style text", "PX", 60_000]);
    const [entry] = await roster(room);
    assert.equal(entry!.description, "old style text");
    assert.equal(entry!.identity.agent_id, bob.agent_id);
  });
});

Deno.test("clearSessionPresence() removes the whole session and nothing else", async () => {
  await withRoom(async (room) => {
    await refreshPresence(room, alice);
    await refreshPresence(room, bare);
    await refreshPresence(room, resolveIdentity("helper", s1));
    await refreshPresence(room, bob);
    await refreshPresence(room, resolveIdentity("x-sess00011", "other"));
    const removed = await clearSessionPresence(room, s1);
    assert.deepEqual(removed.sort(), ["alice-sess0001", "helper-sess0001", "sess0001"]);
    assert.deepEqual((await roster(room)).map((e) => e.identity.agent_id), [
      "bob-sess0002",
      "x-sess00011-other",
    ]);
    assert.deepEqual(await clearSessionPresence(room, s1), []);
    await clearPresence(room, bob.agent_id);
    assert.deepEqual((await roster(room)).map((e) => e.identity.agent_id), ["x-sess00011-other"]);
  });
});

Deno.test("presence index TTL follows live members", async () => {
  await withRoom(async (room, redis) => {
    await refreshPresence(room, alice);
    const ttl = await redis.call(["PTTL", room.keys.presenceIndex]) as number;
    assert.ok(ttl > 14 * 60_000, `index ttl ${ttl}`);
  });
});
