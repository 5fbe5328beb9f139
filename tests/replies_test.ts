import assert from "node:assert/strict";
import { MAX_REPLY_EXCERPT, UnexpectedReplyError } from "../src/errors.ts";
import { resolveIdentity } from "../src/identity.ts";
import type { LuaScript, RedisPort } from "../src/redis/port.ts";
import {
  decodeClaimReply,
  decodeCompleteReply,
  decodeDlqRetryReply,
  decodePruneConsumerReply,
  decodePublishReply,
  decodeReleaseReply,
  decodeRosterReply,
  decodeRuntimeFailReply,
  decodeWelcomeReply,
  intReply,
  textReply,
  textsReply,
} from "../src/replies.ts";
import { Room } from "../src/room.ts";
import { ADVANCE_CURSOR, CLAIM, HEARTBEAT } from "../src/scripts.ts";
import { claimTask, registerTask } from "../src/tasks.ts";
import { withRoom } from "./support/room.ts";
import { assertUnexpected, ROGUE_REPLIES } from "./support/replies.ts";

Deno.test("claim: every documented reply decodes, anything else throws", () => {
  assert.deepEqual(decodeClaimReply(["ok", 1700, "1-0", "claimed"]), {
    outcome: "claimed",
    expiresAt: 1700,
    auditId: "1-0",
  });
  assert.equal(decodeClaimReply(["ok", 1700, "1-0", "renewed"]).outcome, "renewed");
  assert.deepEqual(decodeClaimReply(["held", "bob", 900]), {
    outcome: "held",
    owner: "bob",
    ttlMs: 900,
  });
  assert.deepEqual(decodeClaimReply(["prereq", "BUILD"]), { outcome: "prereq", prereq: "BUILD" });
  assert.deepEqual(decodeClaimReply(["not_task", "NOTE"]), { outcome: "not_task", type: "NOTE" });
  assert.deepEqual(decodeClaimReply(["done"]), { outcome: "done" });
  assert.deepEqual(decodeClaimReply(["unknown"]), { outcome: "unknown" });
  for (
    const reply of [
      ...ROGUE_REPLIES,
      ["ok", 1700, "1-0", "stolen"],
      ["ok", "soon", "1-0", "claimed"],
      ["held", "bob"],
      ["done", "extra"],
    ]
  ) {
    assertUnexpected(() => decodeClaimReply(reply), "claim", JSON.stringify(reply));
  }
});

Deno.test("complete: every documented reply decodes, anything else throws", () => {
  assert.deepEqual(decodeCompleteReply(["ok", "bob", "2-0"]), {
    outcome: "completed",
    previousOwner: "bob",
    auditId: "2-0",
  });
  assert.deepEqual(decodeCompleteReply(["not_owner", "bob"]), {
    outcome: "not_owner",
    owner: "bob",
  });
  assert.deepEqual(decodeCompleteReply(["not_task", "X"]), { outcome: "not_task", type: "X" });
  for (const tag of ["not_claimed", "done", "unknown"]) {
    assert.deepEqual(decodeCompleteReply([tag]), { outcome: tag });
  }
  for (const reply of [...ROGUE_REPLIES, ["ok", "bob"], ["not_owner", 3]]) {
    assertUnexpected(() => decodeCompleteReply(reply), "complete", JSON.stringify(reply));
  }
});

Deno.test("release: every documented reply decodes, anything else throws", () => {
  assert.deepEqual(decodeReleaseReply(["ok", "3-0"]), { outcome: "released", auditId: "3-0" });
  assert.deepEqual(decodeReleaseReply(["not_owner", "bob"]), {
    outcome: "not_owner",
    owner: "bob",
  });
  assert.deepEqual(decodeReleaseReply(["not_held"]), { outcome: "not_held" });
  // `missing` is a lease word: a release reply with it is not "not held"
  for (const reply of [...ROGUE_REPLIES, ["missing"], ["ok"]]) {
    assertUnexpected(() => decodeReleaseReply(reply), "release", JSON.stringify(reply));
  }
});

Deno.test("publish, welcome, roster and scalar replies decode strictly", () => {
  assert.deepEqual(decodePublishReply(["5-0", "1763700000123", ""]), {
    id: "5-0",
    timestamp: 1763700000123,
    inboxId: "",
  });
  assert.deepEqual(decodeWelcomeReply(["6-0", "1763700000123", "4-0"]), {
    id: "6-0",
    replaced: "4-0",
  });
  assert.deepEqual(decodeRosterReply(["100", ["a", "150", "b", "170"]]), ["a", "b"]);
  assert.equal(intReply(HEARTBEAT, 1700), 1700);
  assert.equal(textReply(ADVANCE_CURSOR, "7-0"), "7-0");
  assert.deepEqual(textsReply(CLAIM, ["1-0", "9"]), ["1-0", "9"]);
  for (const reply of [...ROGUE_REPLIES, ["5-0", "x", ""], ["5-0", "1"]]) {
    assertUnexpected(() => decodePublishReply(reply), "publish", JSON.stringify(reply));
  }
  for (const reply of [...ROGUE_REPLIES, ["6-0", "1", 4]]) {
    assertUnexpected(() => decodeWelcomeReply(reply), "welcome", JSON.stringify(reply));
  }
  for (const reply of [...ROGUE_REPLIES, ["100", ["a"]], ["100", [1, 2]]]) {
    assertUnexpected(() => decodeRosterReply(reply), "roster", JSON.stringify(reply));
  }
  for (const reply of [null, "x", 1.5, ["1"]]) {
    assertUnexpected(() => intReply(HEARTBEAT, reply), "heartbeat", JSON.stringify(reply));
  }
  assertUnexpected(() => textReply(ADVANCE_CURSOR, 1), "advance_cursor", "a number");
  assertUnexpected(() => textsReply(CLAIM, ["1-0", 9]), "claim", "a number in a list");
});

Deno.test("UnexpectedReplyError quotes the reply as JSON, clipped", () => {
  const error = new UnexpectedReplyError("claim", ["maybe", "\u001b[31m", "x".repeat(500)]);
  assert.equal(Array.from(error.reply).length, MAX_REPLY_EXCERPT);
  assert.ok(error.reply.startsWith('["maybe","\\u001b[31m","xxx'), error.reply);
  assert.ok(error.reply.endsWith("…"));
  assert.equal(new UnexpectedReplyError("claim", ["done"]).reply, '["done"]');
});

/** A port over a real Redis that runs `rogue` in place of the script named like it. */
function swapScript(redis: RedisPort, rogue: LuaScript): RedisPort {
  return {
    address: redis.address,
    call: (args, options) => redis.call(args, options),
    callBytes: (args, options) => redis.callBytes(args, options),
    pipeline: (commands) => redis.pipeline(commands),
    evalScript: (script, keys, args) =>
      redis.evalScript(script.name === rogue.name ? rogue : script, keys, args),
    close: () => redis.close(),
  };
}

Deno.test("a claim script that answers something else fails with the script's name", async () => {
  await withRoom(async (room, redis) => {
    await registerTask(room, { type: "FIX", description: "fix it" });
    const task = await room.publish({ type: "FIX", agent: resolveIdentity("alice", "aaaa1111") });
    const rogue: LuaScript = { name: "claim", source: "return { 'maybe', ARGV[1] }" };
    const swapped = new Room(swapScript(redis, rogue), room.config);
    await assert.rejects(
      claimTask(swapped, { taskId: task.id, agent: resolveIdentity("bob", "bbbb2222") }),
      (error: unknown) => {
        assert.ok(error instanceof UnexpectedReplyError, String(error));
        assert.equal(error.script, "claim");
        assert.equal(
          error.message,
          `Unexpected reply from the claim script: ["maybe","${task.id}"]`,
        );
        return true;
      },
    );
  });
});

Deno.test("runtime_fail, dlq_retry, prune_consumer: every documented reply decodes, anything else throws", () => {
  assert.deepEqual(decodeRuntimeFailReply(["retry", 1]), { outcome: "retry", attempts: 1 });
  assert.deepEqual(decodeRuntimeFailReply(["gone", "2"]), { outcome: "gone", attempts: 2 });
  assert.deepEqual(decodeRuntimeFailReply(["dead", 3, "1-0"]), {
    outcome: "dead",
    attempts: 3,
    deadId: "1-0",
  });
  for (const bad of [["dead", 3], ["retry"], ["nope", 1], "retry", null, ["retry", 1, 2]]) {
    assert.throws(() => decodeRuntimeFailReply(bad), UnexpectedReplyError, JSON.stringify(bad));
  }
  assert.equal(decodeDlqRetryReply(["retried", "5-0"]), "5-0");
  assert.equal(decodeDlqRetryReply(["missing"]), undefined);
  for (const bad of [["retried"], ["missing", "x"], ["other"], 1]) {
    assert.throws(() => decodeDlqRetryReply(bad), UnexpectedReplyError, JSON.stringify(bad));
  }
  assert.equal(decodePruneConsumerReply(["pruned"]), true);
  assert.equal(decodePruneConsumerReply(["busy", 2]), false);
  for (const bad of [["busy"], ["pruned", 1], ["x"], []]) {
    assert.throws(() => decodePruneConsumerReply(bad), UnexpectedReplyError, JSON.stringify(bad));
  }
});
