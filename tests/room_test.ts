import assert from "node:assert/strict";
import { InvalidValueError, PayloadTooLargeError } from "../src/errors.ts";
import { resolveIdentity } from "../src/identity.ts";
import { withRoom } from "./support/room.ts";

const alice = resolveIdentity("alice", "sess0001");

for (const transport of ["resp", "ioredis"] as const) {
  Deno.test(`Room.publish() stamps id and server time and re-arms the stream TTL (${transport})`, async () => {
    await withRoom(async (room, redis) => {
      const before = await room.serverTime();
      const event = await room.publish({ type: "NOTE", agent: alice, payload: { text: "hi" } });
      assert.match(event.id, /^\d+-\d+$/);
      assert.ok(event.timestamp >= before && event.timestamp <= before + 5_000);
      assert.equal(event.agent_handle, "alice");
      const pttl = await redis.call(["PTTL", room.keys.events]) as number;
      assert.ok(pttl > 47 * 3_600_000 && pttl <= 48 * 3_600_000, `pttl ${pttl}`);
      const stored = await room.eventById(event.id);
      assert.deepEqual(stored, event);
    }, { transport });
  });
}

Deno.test("Room.publish() rejects oversized payloads and bad types without writing", async () => {
  await withRoom(async (room, redis) => {
    const big = "x".repeat(16 * 1024);
    await assert.rejects(
      room.publish({ type: "NOTE", agent: alice, payload: big }),
      PayloadTooLargeError,
    );
    for (const type of ["", "  ", "has space", "tab\t", "x".repeat(65), "ctl\u0007"]) {
      await assert.rejects(
        room.publish({ type, agent: alice }),
        InvalidValueError,
        JSON.stringify(type),
      );
    }
    await assert.rejects(
      room.publish({ type: "A", agent: alice, reply_to: "nope" }),
      InvalidValueError,
    );
    assert.equal(await redis.call(["EXISTS", room.keys.events]), 0);
    // exactly at the cap is accepted: the JSON string adds two quote bytes
    await room.publish({ type: "NOTE", agent: alice, payload: "y".repeat(16 * 1024 - 2) });
  });
});

Deno.test("Room.publish() stores control characters and lone surrogates as valid JSON", async () => {
  await withRoom(async (room) => {
    const nasty = "\u001b[31mred\u0000nul\ud800lone\nline";
    const event = await room.publish({ type: "NOTE", agent: alice, payload: nasty });
    const [stored] = await room.recent(1);
    assert.equal(stored?.id, event.id);
    assert.equal(typeof stored?.payload, "string");
    assert.ok(String(stored?.payload).startsWith("\u001b[31mred\u0000nul"));
  });
});

Deno.test("Room reads: recent, since, recentSince, eventById, lastId, directed", async () => {
  await withRoom(async (room) => {
    assert.equal(await room.lastId(), "0-0");
    assert.deepEqual(await room.recent(5), []);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const to = i % 2 === 0 ? "bob-s" : "";
      ids.push((await room.publish({ type: `T${i}`, agent: alice, payload: i, to })).id);
    }
    assert.deepEqual((await room.recent(3)).map((e) => e.type), ["T3", "T4", "T5"]);
    assert.deepEqual((await room.since(ids[1]!, 2)).map((e) => e.type), ["T2", "T3"]);
    assert.deepEqual((await room.since("0-0", 100)).length, 6);
    assert.deepEqual((await room.recentSince(ids[1]!, 2)).map((e) => e.type), ["T4", "T5"]);
    assert.deepEqual(await room.since(ids[5]!, 10), []);
    assert.equal((await room.eventById(ids[2]!))?.type, "T2");
    assert.equal(await room.eventById("1-0"), undefined);
    await assert.rejects(room.eventById("garbage"), InvalidValueError);
    assert.equal(await room.lastId(), ids[5]);
    assert.deepEqual((await room.directed("bob-s", 10)).map((e) => e.type), ["T4", "T2", "T0"]);
    assert.deepEqual((await room.directed("bob-s", 1)).map((e) => e.type), ["T4"]);
    assert.deepEqual(await room.directed("", 10), []);
  });
});

Deno.test("Room.waitForEvents() wakes on a new event and times out empty", async () => {
  await withRoom(async (room) => {
    const start = await room.lastId();
    assert.deepEqual(await room.waitForEvents(start, { blockMs: 50 }), []);
    const waiting = room.waitForEvents(start, { blockMs: 0 });
    // a second connection publishes while the first is blocked
    await withRoom(async (_, redis2) => {
      const { Room } = await import("../src/room.ts");
      const writer = new Room(redis2, room.config);
      await writer.publish({ type: "WAKE", agent: alice });
    });
    const events = await waiting;
    assert.deepEqual(events.map((e) => e.type), ["WAKE"]);
  });
});

Deno.test("Room scratchpad writes, reads and expires", async () => {
  await withRoom(async (room, redis) => {
    assert.equal(await room.readScratchpad("plan"), undefined);
    await room.writeScratchpad("plan", "step 1", 0);
    assert.equal(await room.readScratchpad("plan"), "step 1");
    assert.equal(await redis.call(["PTTL", room.keys.scratchpad("plan")]), -1);
    await room.writeScratchpad("tmp", "x", 60_000);
    const ttl = await redis.call(["PTTL", room.keys.scratchpad("tmp")]) as number;
    assert.ok(ttl > 0 && ttl <= 60_000);
  });
});

Deno.test("Room.publish() with streamMaxLen trims and with streamTtlMs 0 leaves no TTL", async () => {
  await withRoom(async (room, redis) => {
    for (let i = 0; i < 300; i++) await room.publish({ type: "N", agent: alice, payload: i });
    const len = await redis.call(["XLEN", room.keys.events]) as number;
    assert.ok(len < 300 && len >= 100, `len ${len}`);
    assert.equal(await redis.call(["PTTL", room.keys.events]), -1);
  }, { tunables: { streamMaxLen: 100, streamTtlMs: 0 } });
});
