import assert from "node:assert/strict";
import type { RoomEvent } from "../src/codec.ts";
import { AskPendingError, InvalidValueError, NotFoundError } from "../src/errors.ts";
import { resolveIdentity } from "../src/identity.ts";
import { inboxCursor, inboxHistory, markInboxRead, unreadInbox } from "../src/inbox.ts";
import {
  ask,
  BLOCK_SLICE_MS,
  pinWelcome,
  reply,
  waitForEvent,
  WELCOME_PAYLOAD,
} from "../src/messaging.ts";
import { heartbeat, roster } from "../src/presence.ts";
import { connectRedis } from "../src/redis/connect.ts";
import type { RedisArg, RedisPort } from "../src/redis/port.ts";
import { parseRedisUrl } from "../src/redis/url.ts";
import { Room } from "../src/room.ts";
import { resolveLiveTarget, resolveTarget } from "../src/targets.ts";
import { commandName, recordingPort } from "./support/recording.ts";
import { until } from "./support/poll.ts";
import { shared, withRedis } from "./support/redis.ts";
import { withRoom } from "./support/room.ts";

const alice = resolveIdentity("alice", "aaaa1111");
const bob = resolveIdentity("bob", "bbbb2222");
const carol = resolveIdentity("carol", "cccc3333");

/** A port that records every XREAD sent through it. */
function countingXreads(
  redis: RedisPort,
): { port: RedisPort; xreads: () => (readonly RedisArg[])[] } {
  const port = recordingPort(redis);
  const xreads = () =>
    port.log.flatMap((r) => r.kind === "call" && commandName(r.args) === "XREAD" ? [r.args] : []);
  return { port, xreads };
}

/** The BLOCK argument of a recorded XREAD. */
function blockOf(xread: readonly RedisArg[]): number {
  return Number(xread[xread.indexOf("BLOCK") + 1]);
}

/**
 * Resolves once the server reports client `clientId` blocked (flag `b`), so a
 * write made afterwards is certainly seen by a blocking read, not a fresh one.
 */
async function blockedOnServer(admin: RedisPort, clientId: number): Promise<void> {
  await until(`client ${clientId} blocked`, async () => {
    const list = String(await admin.call(["CLIENT", "LIST", "ID", clientId]));
    return / flags=\S*b/.test(list);
  }, 10_000);
}

async function xlen(redis: RedisPort, key: string): Promise<number> {
  return await redis.call(["XLEN", key]) as number;
}

Deno.test("directed(): newest first, only events to that agent, broadcasts excluded", async () => {
  await withRoom(async (room) => {
    const sent: RoomEvent[] = [];
    for (const [i, to] of ["bob-bbbb2222", "", "carol-cccc3333", "bob-bbbb2222", "x:y"].entries()) {
      sent.push(await room.publish({ type: `T${i}`, agent: alice, payload: i, to, inbox: true }));
    }
    const toBob = await room.directed(bob.agent_id, 10);
    assert.deepEqual(toBob.map((e) => e.id), [sent[3]!.id, sent[0]!.id]);
    assert.ok(toBob.every((e) => e.to === bob.agent_id));
    assert.deepEqual((await room.directed(bob.agent_id, 1)).map((e) => e.type), ["T3"]);
    assert.deepEqual((await room.directed(carol.agent_id, 10)).map((e) => e.type), ["T2"]);
    assert.deepEqual(await room.directed("", 10), [], "broadcasts are nobody's");
    assert.deepEqual(await room.directed("nobody", 10), []);
  });
});

Deno.test("inbox: messages sent while the recipient is away are read once, in order, after it returns", async () => {
  await withRoom(async (room, redis) => {
    // bob has no presence at all: nothing resolves him, the library still delivers
    assert.deepEqual(await roster(room), []);
    const sent: RoomEvent[] = [];
    for (const text of ["one", "two", "three"]) {
      sent.push(
        await room.publish({
          type: "NOTE",
          agent: alice,
          payload: text,
          to: bob.agent_id,
          inbox: true,
        }),
      );
    }
    await room.publish({ type: "NOTE", agent: alice, payload: "to everyone" });
    await room.publish({
      type: "NOTE",
      agent: alice,
      payload: "to carol",
      to: carol.agent_id,
      inbox: true,
    });
    assert.equal(await xlen(redis, room.keys.inbox(bob.agent_id)), 3);

    // bob returns
    assert.equal(await inboxCursor(room, bob.agent_id), "0-0");
    const unread = await unreadInbox(room, { recipient: bob.agent_id });
    assert.deepEqual(unread.map((e) => e.event.payload), ["one", "two", "three"]);
    assert.deepEqual(
      unread.map((e) => e.event),
      sent,
      "each copy is the room event, room id included",
    );
    assert.ok(unread.every((e) => /^\d+-\d+$/.test(e.inbox_id)));
    assert.deepEqual(
      await unreadInbox(room, { recipient: bob.agent_id }),
      unread,
      "reading does not move the cursor",
    );
    const cursor = await markInboxRead(room, {
      recipient: bob.agent_id,
      inboxId: unread[2]!.inbox_id,
    });
    assert.equal(cursor, unread[2]!.inbox_id);
    assert.deepEqual(await unreadInbox(room, { recipient: bob.agent_id }), [], "read once");

    // a new message later: only it is unread; the history keeps everything
    const four = await room.publish({
      type: "ASK",
      agent: carol,
      payload: "four",
      to: bob.agent_id,
      inbox: true,
    });
    const next = await unreadInbox(room, { recipient: bob.agent_id });
    assert.deepEqual(next.map((e) => e.event), [four]);
    const history = await inboxHistory(room, { recipient: bob.agent_id });
    assert.deepEqual(history.map((e) => e.event.payload), ["one", "two", "three", "four"]);
    assert.deepEqual(
      (await inboxHistory(room, { recipient: bob.agent_id, count: 2 })).map((e) => e.event.payload),
      ["three", "four"],
      "history keeps the newest, oldest first",
    );
    assert.deepEqual(
      (await unreadInbox(room, { recipient: carol.agent_id })).map((e) => e.event.payload),
      ["to carol"],
    );
    assert.deepEqual(await unreadInbox(room, { recipient: alice.agent_id }), []);
  });
});

Deno.test("inbox: the cursor survives the connection (a new port and Room read the same cursor)", async () => {
  await withRoom(async (room) => {
    for (const text of ["a", "b", "c"]) {
      await room.publish({
        type: "NOTE",
        agent: alice,
        payload: text,
        to: bob.agent_id,
        inbox: true,
      });
    }
    const first = await unreadInbox(room, { recipient: bob.agent_id, count: 2 });
    assert.deepEqual(first.map((e) => e.event.payload), ["a", "b"]);
    await markInboxRead(room, { recipient: bob.agent_id, inboxId: first[1]!.inbox_id });
    await withRedis(async (other) => {
      const again = new Room(other, room.config);
      assert.equal(await inboxCursor(again, bob.agent_id), first[1]!.inbox_id);
      const rest = await unreadInbox(again, { recipient: bob.agent_id });
      assert.deepEqual(rest.map((e) => e.event.payload), ["c"]);
    });
  });
});

Deno.test("markInboxRead(): the cursor never moves back and re-arms its TTL", async () => {
  await withRoom(async (room, redis) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await room.publish({ type: "NOTE", agent: alice, payload: i, to: bob.agent_id, inbox: true });
    }
    for (const entry of await unreadInbox(room, { recipient: bob.agent_id })) {
      ids.push(entry.inbox_id);
    }
    const recipient = bob.agent_id;
    assert.equal(await markInboxRead(room, { recipient, inboxId: ids[2]! }), ids[2]);
    assert.equal(await markInboxRead(room, { recipient, inboxId: ids[0]! }), ids[2], "older: kept");
    assert.equal(await markInboxRead(room, { recipient, inboxId: ids[2]! }), ids[2], "same: kept");
    assert.equal(await markInboxRead(room, { recipient, inboxId: "0-0" }), ids[2]);
    assert.equal(await inboxCursor(room, recipient), ids[2]);
    assert.deepEqual(
      await unreadInbox(room, { recipient }),
      [],
      "a late commit re-delivers nothing",
    );
    // an id without its sequence part is a valid stream id (`<ms>` = `<ms>-0`)
    const [ms] = ids[2]!.split("-");
    assert.equal(
      await markInboxRead(room, { recipient, inboxId: ms! }),
      ids[2],
      "ms-only older id",
    );
    const later = String(Number(ms) + 1);
    const moved = await markInboxRead(room, { recipient, inboxId: later });
    assert.ok(moved === later || moved === `${later}-0`, `ms-only newer id moves it: ${moved}`);
    assert.equal(await markInboxRead(room, { recipient, inboxId: ids[2]! }), moved, "not back");
    await assert.rejects(markInboxRead(room, { recipient, inboxId: "nope" }), InvalidValueError);
    const ttl = await redis.call(["PTTL", room.keys.inboxCursor(recipient)]) as number;
    assert.ok(ttl > 50_000 && ttl <= 60_000, `cursor ttl ${ttl}`);
    // a refused (older) commit still re-arms the TTL
    await redis.call(["PEXPIRE", room.keys.inboxCursor(recipient), 5_000]);
    await markInboxRead(room, { recipient, inboxId: ids[0]! });
    assert.ok((await redis.call(["PTTL", room.keys.inboxCursor(recipient)]) as number) > 50_000);
  }, { tunables: { inboxTtlMs: 60_000 } });
});

Deno.test("inbox: the cap is respected (approximate MAXLEN) and unread still works past trimmed entries", async () => {
  await withRoom(async (room, redis) => {
    const first = await room.publish({
      type: "N",
      agent: alice,
      payload: 0,
      to: bob.agent_id,
      inbox: true,
    });
    // a cursor pointing into what will be trimmed
    const [head] = await unreadInbox(room, { recipient: bob.agent_id });
    await markInboxRead(room, { recipient: bob.agent_id, inboxId: head!.inbox_id });
    for (let i = 1; i < 250; i++) {
      await room.publish({ type: "N", agent: alice, payload: i, to: bob.agent_id, inbox: true });
    }
    const len = await xlen(redis, room.keys.inbox(bob.agent_id));
    // MAXLEN ~ trims whole stream nodes (at most 100 entries each)
    assert.ok(len >= 10 && len <= 110, `inbox length ${len}`);
    assert.equal(await xlen(redis, room.keys.events), 250, "the room stream is not trimmed");
    const unread = await unreadInbox(room, { recipient: bob.agent_id, count: 1000 });
    assert.equal(unread.length, len);
    assert.equal(unread.at(-1)!.event.payload, 249);
    assert.ok(unread.every((e) => e.event.id !== first.id));
  }, { tunables: { inboxMaxLen: 10 } });
});

Deno.test("inbox: every delivery re-arms the inbox and recipients-index TTL", async () => {
  await withRoom(async (room, redis) => {
    await room.publish({ type: "N", agent: alice, to: bob.agent_id, inbox: true });
    const inbox = room.keys.inbox(bob.agent_id);
    const ttl = await redis.call(["PTTL", inbox]) as number;
    assert.ok(ttl > 50_000 && ttl <= 60_000, `inbox ttl ${ttl}`);
    await redis.call(["PEXPIRE", inbox, 1_000]);
    await redis.call(["PEXPIRE", room.keys.inboxRecipients, 1_000]);
    await room.publish({ type: "N", agent: alice, to: bob.agent_id, inbox: true });
    assert.ok((await redis.call(["PTTL", inbox]) as number) > 50_000, "inbox re-armed");
    assert.ok(
      (await redis.call(["PTTL", room.keys.inboxRecipients]) as number) > 50_000,
      "recipients index re-armed",
    );
    const score = Number(await redis.call(["ZSCORE", room.keys.inboxRecipients, bob.agent_id]));
    const now = await room.serverTime();
    assert.ok(score > now + 50_000 && score <= now + 60_000, "scored by inbox expiry");
  }, { tunables: { inboxTtlMs: 60_000 } });
});

Deno.test("inbox: keyed by the resolved agent id, never by the raw text; room keys and broadcasts get none", async () => {
  await withRoom(async (room, redis) => {
    await heartbeat(room, { identity: bob, description: "" });
    const target = resolveTarget("bob", await roster(room));
    assert.deepEqual(target, { kind: "agent", to: bob.agent_id, how: "handle" });
    const prefix = resolveTarget("bob-bb", await roster(room));
    assert.deepEqual(prefix, { kind: "agent", to: bob.agent_id, how: "prefix" });
    await room.publish({ type: "Q", agent: alice, payload: 1, to: target.to, inbox: true });
    await room.publish({ type: "Q", agent: alice, payload: 2, to: prefix.to, inbox: true });
    assert.equal(await xlen(redis, room.keys.inbox(bob.agent_id)), 2);
    assert.equal(await redis.call(["EXISTS", room.keys.inbox("bob")]), 0);
    assert.equal(await redis.call(["EXISTS", room.keys.inbox("bob-bb")]), 0);
    await room.publish({ type: "Q", agent: alice, to: "lobby:main", inbox: true });
    await room.publish({ type: "Q", agent: alice, to: "", inbox: true });
    await room.publish({ type: "Q", agent: alice, to: carol.agent_id, inbox: false });
    const inboxes = await redis.call(["KEYS", `${room.keys.prefix}:inbox:*`]) as string[];
    assert.deepEqual(inboxes, [room.keys.inbox(bob.agent_id)]);
    assert.deepEqual(
      await redis.call(["ZRANGE", room.keys.inboxRecipients, 0, -1]),
      [bob.agent_id],
    );
  });
});

Deno.test("inbox: the inbox copy and the room event are written atomically", async () => {
  await withRoom(async (room, redis) => {
    await room.publish({ type: "BEFORE", agent: alice });
    const before = await redis.call(["XRANGE", room.keys.events, "-", "+"]);
    const seen = await redis.call(["HGETALL", room.keys.typesSeen]);
    await redis.call(["SET", room.keys.inbox(bob.agent_id), "not a stream"]);
    await assert.rejects(
      room.publish({ type: "Q", agent: alice, payload: "x", to: bob.agent_id, inbox: true }),
      /WRONGTYPE/,
    );
    await redis.call(["SET", room.keys.inboxRecipients, "not a zset"]);
    await assert.rejects(
      room.publish({ type: "Q", agent: alice, payload: "x", to: carol.agent_id, inbox: true }),
      /WRONGTYPE/,
    );
    assert.deepEqual(await redis.call(["XRANGE", room.keys.events, "-", "+"]), before);
    assert.deepEqual(await redis.call(["HGETALL", room.keys.typesSeen]), seen);
    assert.equal(await redis.call(["EXISTS", room.keys.inbox(carol.agent_id)]), 0);
    assert.equal(await redis.call(["GET", room.keys.inbox(bob.agent_id)]), "not a stream");
  });
});

/** A promise for the ASK event handed to `onAsked`, and the callback to pass. */
function onAsked(): { asked: Promise<RoomEvent>; onAsked: (event: RoomEvent) => void } {
  let onAsked!: (event: RoomEvent) => void;
  const asked = new Promise<RoomEvent>((resolve) => onAsked = resolve);
  return { asked, onAsked };
}

// The asker's port is busy with its blocking read while an ask waits, so every
// other command of these tests goes through a second connection.

Deno.test("ask/reply: only the REPLY from the target, to the asker, to that ASK ends the ask", async () => {
  await withRoom(async (aliceRoom) => {
    await withRedis(async (other) => {
      const bobRoom = new Room(other, aliceRoom.config);
      const unrelated = await bobRoom.publish({ type: "NOTE", agent: bob, payload: "earlier" });
      const hook = onAsked();
      const pending = ask(aliceRoom, {
        agent: alice,
        to: bob.agent_id,
        message: { q: "is the retry cap 30s?" },
        timeoutMs: 20_000,
        onAsked: hook.onAsked,
      });
      const question = await hook.asked;
      assert.equal(question.type, "ASK");
      assert.equal(question.to, bob.agent_id);
      assert.equal(question.agent_id, alice.agent_id);
      assert.deepEqual(question.payload, { q: "is the retry cap 30s?" });
      assert.equal(await other.call(["EXISTS", aliceRoom.keys.pendingAsk(alice.agent_id)]), 1);

      // traffic that must not end the ask
      await assert.rejects(
        reply(bobRoom, { agent: carol, askId: question.id, message: "not addressed" }),
        (e) => e instanceof InvalidValueError && /only bob-bbbb2222 can answer it/.test(e.message),
      );
      await bobRoom.publish({
        type: "REPLY",
        agent: carol,
        payload: "wrong agent",
        to: alice.agent_id,
        reply_to: question.id,
        inbox: true,
      });
      await bobRoom.publish({
        type: "REPLY",
        agent: bob,
        payload: "wrong asker",
        to: carol.agent_id,
        reply_to: question.id,
        inbox: true,
      });
      await bobRoom.publish({
        type: "REPLY",
        agent: bob,
        payload: "wrong ask",
        to: alice.agent_id,
        reply_to: unrelated.id,
      });
      await bobRoom.publish({
        type: "NOTE",
        agent: bob,
        payload: "not a reply",
        to: alice.agent_id,
        reply_to: question.id,
      });
      const right = await reply(bobRoom, { agent: bob, askId: question.id, message: "yes, 30s" });
      assert.equal(right.type, "REPLY");
      assert.equal(right.to, alice.agent_id);
      assert.equal(right.reply_to, question.id);

      const result = await pending;
      assert.deepEqual(result.ask, question);
      assert.deepEqual(result.reply, right);
      assert.equal(await other.call(["EXISTS", aliceRoom.keys.pendingAsk(alice.agent_id)]), 0);
      // both ends landed in the right inboxes
      const bobInbox = await unreadInbox(bobRoom, { recipient: bob.agent_id });
      assert.deepEqual(bobInbox.map((e) => e.event.id), [question.id]);
      const aliceInbox = await unreadInbox(bobRoom, { recipient: alice.agent_id });
      // the reply that ask() returned is not shown again; other traffic stays unread
      assert.deepEqual(aliceInbox.map((e) => e.event.payload), ["wrong agent"]);
    });
  });
});

Deno.test("ask: a second concurrent ask from the same agent is refused until the first finishes", async () => {
  await withRoom(async (room) => {
    await withRedis(async (other) => {
      const bobRoom = new Room(other, room.config);
      const hook = onAsked();
      const first = ask(room, {
        agent: alice,
        to: bob.agent_id,
        message: "first",
        timeoutMs: 20_000,
        onAsked: hook.onAsked,
      });
      const question = await hook.asked;
      const length = await xlen(other, room.keys.events);
      await assert.rejects(
        ask(bobRoom, { agent: alice, to: carol.agent_id, message: "second", timeoutMs: 1_000 }),
        (error: unknown) =>
          error instanceof AskPendingError && error.code === "ask_pending" &&
          /already has a pending ask/.test(error.message),
      );
      assert.equal(await xlen(other, room.keys.events), length, "the refused ask wrote nothing");
      // another agent may ask meanwhile
      const carolAsk = await ask(bobRoom, {
        agent: carol,
        to: bob.agent_id,
        message: "carol's",
        timeoutMs: 50,
      });
      assert.equal(carolAsk.reply, undefined);
      await reply(bobRoom, { agent: bob, askId: question.id, message: "done" });
      assert.equal((await first).reply?.payload, "done");
      // released: a third ask works (and times out, releasing again)
      const third = await ask(bobRoom, {
        agent: alice,
        to: bob.agent_id,
        message: "third",
        timeoutMs: 100,
      });
      assert.equal(third.ask.payload, "third");
      assert.equal(third.reply, undefined);
      assert.equal(await other.call(["EXISTS", room.keys.pendingAsk(alice.agent_id)]), 0);
    });
  });
});

Deno.test("ask: a timeout returns no reply, leaves the question in the inbox and releases the lease", async () => {
  await withRoom(async (room) => {
    await withRedis(async (other) => {
      const lease = room.keys.pendingAsk(alice.agent_id);
      const result = await ask(room, {
        agent: alice,
        to: bob.agent_id,
        message: "anyone?",
        timeoutMs: 200,
      });
      assert.equal(result.reply, undefined);
      assert.equal(result.ask.type, "ASK");
      assert.equal(await other.call(["EXISTS", lease]), 0, "lease released");
      const inbox = await unreadInbox(room, { recipient: bob.agent_id });
      assert.deepEqual(inbox.map((e) => e.event.id), [result.ask.id]);
      // while waiting, the lease carries its own expiry (timeout + grace): a crashed asker frees it
      const hook = onAsked();
      const watching = ask(room, {
        agent: alice,
        to: bob.agent_id,
        message: "ttl?",
        timeoutMs: 10_000,
        onAsked: hook.onAsked,
      });
      const question = await hook.asked;
      const ttl = await other.call(["PTTL", lease]) as number;
      assert.ok(ttl > 10_000 && ttl <= 15_000, `lease ttl ${ttl}`);
      await reply(new Room(other, room.config), { agent: bob, askId: question.id, message: "ok" });
      assert.equal((await watching).reply?.payload, "ok");
      assert.equal(await other.call(["EXISTS", lease]), 0);
    });
  });
});

Deno.test("ask: the end of an ask never releases a lease that is no longer its own", async () => {
  await withRoom(async (room, redis) => {
    const lease = room.keys.pendingAsk(alice.agent_id);
    const result = await ask(room, {
      agent: alice,
      to: bob.agent_id,
      message: "q",
      timeoutMs: 100,
      // the lease lapsed and another ask of the same agent took it (sent on the
      // asker's own connection, so it is certainly applied before the ask ends)
      onAsked: () => void redis.call(["SET", lease, "someone-else"]),
    });
    assert.equal(result.reply, undefined);
    assert.equal(await redis.call(["GET", lease]), "someone-else");
  });
});

Deno.test("ask: timeouts outside 1 ms..24h are refused before anything is written", async () => {
  await withRoom(async (room, redis) => {
    for (const timeoutMs of [0, -1, Number.NaN, 24 * 3_600_000 + 1, Infinity]) {
      await assert.rejects(
        ask(room, { agent: alice, to: bob.agent_id, message: "x", timeoutMs }),
        InvalidValueError,
        String(timeoutMs),
      );
    }
    assert.deepEqual(await redis.call(["KEYS", `${room.keys.prefix}:*`]), []);
  });
});

Deno.test("reply: unknown id is NotFoundError, a non-ASK is InvalidValueError, nothing written", async () => {
  await withRoom(async (room, redis) => {
    const note = await room.publish({ type: "NOTE", agent: alice, payload: "not a question" });
    await assert.rejects(
      reply(room, { agent: bob, askId: "1-0", message: "x" }),
      NotFoundError,
    );
    await assert.rejects(
      reply(room, { agent: bob, askId: note.id, message: "x" }),
      (error: unknown) =>
        error instanceof InvalidValueError && /is NOTE, not ASK/.test(error.message),
    );
    await assert.rejects(
      reply(room, { agent: bob, askId: "garbage", message: "x" }),
      InvalidValueError,
    );
    assert.equal(await xlen(redis, room.keys.events), 1);
    assert.deepEqual(await redis.call(["KEYS", `${room.keys.prefix}:inbox*`]), []);
  });
});

for (const [label, timeoutMs] of [["10s timeout", 10_000], ["no timeout", 0]] as const) {
  Deno.test(`waitForEvent() wakes on an event from another connection within one blocking read (${label})`, async () => {
    await withRoom(async (room, redis) => {
      const { port, xreads } = countingXreads(redis);
      const waiter = new Room(port, room.config);
      const clientId = await redis.call(["CLIENT", "ID"]) as number;
      const afterId = await waiter.lastId();
      const waiting = waitForEvent(waiter, { afterId, timeoutMs });
      await withRedis(async (admin) => {
        await blockedOnServer(admin, clientId);
        const writer = new Room(admin, room.config);
        const sent = await writer.publish({ type: "WAKE", agent: bob, payload: "now" });
        assert.deepEqual(await waiting, sent);
      });
      assert.equal(xreads().length, 1, `XREADs: ${JSON.stringify(xreads())}`);
      const block = blockOf(xreads()[0]!);
      // every blocking read is a bounded slice, so a server that stops answering is noticed
      assert.ok(block > 0 && block <= BLOCK_SLICE_MS, `BLOCK ${block}`);
    });
  });
}

Deno.test("waitForEvent(): the filter skips others' traffic without polling", async () => {
  await withRoom(async (room, redis) => {
    const { port, xreads } = countingXreads(redis);
    const waiter = new Room(port, room.config);
    const clientId = await redis.call(["CLIENT", "ID"]) as number;
    const waiting = waitForEvent(waiter, {
      afterId: await waiter.lastId(),
      timeoutMs: 0,
      filter: (e) => e.to === bob.agent_id,
    });
    await withRedis(async (admin) => {
      await blockedOnServer(admin, clientId);
      const writer = new Room(admin, room.config);
      await writer.publish({ type: "NOTE", agent: alice, payload: "broadcast" });
      await writer.publish({ type: "NOTE", agent: alice, payload: "to carol", to: carol.agent_id });
      const mine = await writer.publish({
        type: "NOTE",
        agent: carol,
        payload: "to bob",
        to: bob.agent_id,
      });
      assert.deepEqual(await waiting, mine);
    });
    // one blocking read per wake-up at most (events may also arrive together)
    const used = xreads().length;
    assert.ok(used >= 1 && used <= 3, `XREADs: ${used}`);
  });
});

Deno.test("waitForEvent(): timeout returns undefined; an aborted signal returns at once", async () => {
  await withRoom(async (room) => {
    await room.publish({ type: "OLD", agent: alice });
    assert.equal(
      await waitForEvent(room, { afterId: await room.lastId(), timeoutMs: 100 }),
      undefined,
    );
    const old = await waitForEvent(room, { afterId: "0-0", timeoutMs: 100 });
    assert.equal(old?.type, "OLD", "events after afterId that are already there count");
    assert.equal(
      await waitForEvent(room, { afterId: "0-0", timeoutMs: 100, filter: () => false }),
      undefined,
    );
    const controller = new AbortController();
    controller.abort();
    assert.equal(
      await waitForEvent(room, { afterId: "0-0", timeoutMs: 0, signal: controller.signal }),
      undefined,
    );
    await assert.rejects(waitForEvent(room, { afterId: "x", timeoutMs: 10 }), InvalidValueError);
  });
});

async function welcomes(redis: RedisPort, lobby: Room): Promise<string[]> {
  const entries = await redis.call(["XRANGE", lobby.keys.events, "-", "+"]) as [string, string[]][];
  return entries.filter(([, f]) => f[f.indexOf("type") + 1] === "WELCOME").map(([id]) => id);
}

Deno.test("pinWelcome(): one WELCOME at a time, replaced atomically; the pinned copy has no TTL", async () => {
  await withRoom(async (lobby, redis) => {
    await lobby.publish({ type: "NOTE", agent: alice, payload: "other lobby traffic" });
    const first = await pinWelcome(lobby, alice);
    assert.equal(first.replaced, "");
    const second = await pinWelcome(lobby, bob);
    assert.equal(second.replaced, first.id);
    assert.deepEqual(await welcomes(redis, lobby), [second.id]);
    assert.equal(await lobby.eventById(first.id), undefined, "the old entry is gone");
    const pinned = await lobby.eventById(second.id);
    assert.equal(pinned?.type, "WELCOME");
    assert.equal(pinned?.agent_id, bob.agent_id);
    assert.deepEqual(pinned?.payload, WELCOME_PAYLOAD);
    assert.equal(pinned?.timestamp && pinned.timestamp > 0, true);
    assert.equal((await lobby.recent(10)).filter((e) => e.type === "NOTE").length, 1);
    assert.equal(await redis.call(["PTTL", lobby.keys.pinnedWelcome]), -1, "pinned: no expiry");
    assert.ok((await redis.call(["PTTL", lobby.keys.events]) as number) > 0);
    const copy = JSON.parse(await redis.call(["GET", lobby.keys.pinnedWelcome]) as string);
    assert.equal(copy.id, second.id);
    assert.equal(copy.type, "WELCOME", "the pinned copy is the event itself");
    assert.deepEqual(JSON.parse(copy.payload), WELCOME_PAYLOAD);
    // the stream expired meanwhile: pinning again still leaves one WELCOME
    await redis.call(["DEL", lobby.keys.events]);
    const third = await pinWelcome(lobby, alice);
    assert.equal(third.replaced, second.id);
    assert.deepEqual(await welcomes(redis, lobby), [third.id]);
  });
});

Deno.test("pinWelcome(): ten concurrent runs on ten connections leave exactly one WELCOME", async () => {
  await withRoom(async (lobby, redis) => {
    const ports = await Promise.all(
      Array.from({ length: 10 }, () => connectRedis(parseRedisUrl(shared.url))),
    );
    try {
      const results = await Promise.all(
        ports.map((port, i) =>
          pinWelcome(new Room(port, lobby.config), resolveIdentity(`w${i}`, "wwww0000"))
        ),
      );
      const ids = await welcomes(redis, lobby);
      assert.equal(ids.length, 1, JSON.stringify(ids));
      // the runs form one chain: each replaced exactly the one before it
      assert.equal(results.filter((r) => r.replaced === "").length, 1);
      assert.equal(new Set(results.map((r) => r.replaced)).size, 10);
      const last = results.find((r) => !results.some((o) => o.replaced === r.id));
      assert.equal(last?.id, ids[0]);
      const copy = JSON.parse(await redis.call(["GET", lobby.keys.pinnedWelcome]) as string);
      assert.equal(copy.id, ids[0]);
    } finally {
      await Promise.all(ports.map((port) => port.close()));
    }
  });
});

Deno.test("resolveLiveTarget() on a real roster: exact, handle, prefix, ambiguous, room key, nobody", async () => {
  await withRoom(async (room) => {
    assert.throws(
      () => resolveLiveTarget("bob", []),
      (error: unknown) => error instanceof NotFoundError && /live: \(nobody\)/.test(error.message),
    );
    for (
      const [handle, token] of [["reviewer", "aaaa1111"], ["builder", "bbbb2222"], [
        "builder",
        "cccc3333",
      ], ["tester", "dddd4444"]]
    ) {
      await heartbeat(room, { identity: resolveIdentity(handle!, token!), description: "" });
    }
    const live = await roster(room);
    assert.equal(live.length, 4);
    assert.equal(resolveLiveTarget("builder-bbbb2222", live), "builder-bbbb2222", "exact id");
    assert.equal(resolveLiveTarget(" reviewer ", live), "reviewer-aaaa1111", "unique handle");
    assert.equal(resolveLiveTarget("test", live), "tester-dddd4444", "unique prefix");
    assert.equal(resolveLiveTarget("builder-c", live), "builder-cccc3333", "unique id prefix");
    const ambiguous = (raw: string) => (error: unknown) =>
      error instanceof InvalidValueError &&
      error.message.includes(`--to "${raw}" is ambiguous`) &&
      error.message.includes("candidates: builder-bbbb2222, builder-cccc3333");
    assert.throws(() => resolveLiveTarget("builder", live), ambiguous("builder"));
    assert.throws(() => resolveLiveTarget("b", live), ambiguous("b"));
    assert.throws(
      () => resolveLiveTarget("lobby:main", live),
      (error: unknown) => error instanceof InvalidValueError && /is a room key/.test(error.message),
    );
    assert.throws(() => resolveLiveTarget("  ", live), InvalidValueError);
    assert.throws(
      () => resolveLiveTarget("ghost", live),
      (error: unknown) =>
        error instanceof NotFoundError &&
        error.message.includes(
          "live: builder-bbbb2222, builder-cccc3333, reviewer-aaaa1111, tester-dddd4444",
        ),
    );
  });
});
