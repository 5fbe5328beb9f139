import assert from "node:assert/strict";
import { InvalidValueError } from "../../src/errors.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { heartbeat } from "../../src/presence.ts";
import { Room } from "../../src/room.ts";
import { roomStatus } from "../../src/coordination/status.ts";
import { registerTask } from "../../src/tasks.ts";
import { requestWindow } from "../../src/coordination/windows.ts";
import { cancelWindow } from "../../src/coordination/window_lifecycle.ts";
import { setWorkStatus } from "../../src/coordination/work.ts";
import { withRoom } from "../support/room.ts";
import { alice, bob, carol } from "../support/coord.ts";
import { commandName, type Recorded, recordingPort } from "../support/recording.ts";

/** The name (and pipeline contents, script name) of every command sent through the port. */
function commandLog(log: Recorded[]): string[] {
  return log.map((r) =>
    r.kind === "call"
      ? commandName(r.args)
      : r.kind === "pipeline"
      ? `PIPELINE(${r.commands.map(commandName).join(",")})`
      : `SCRIPT ${r.script}`
  );
}

Deno.test("roomStatus() of an empty room: every list is empty, never null", async () => {
  await withRoom(async (room) => {
    const s = await roomStatus(room);
    assert.ok(s.checked_at > 0);
    assert.deepEqual({ ...s, checked_at: 0 }, {
      checked_at: 0,
      leases: [],
      lease_count: 0,
      windows: [],
      window_count: 0,
      work: [],
      work_count: 0,
      open_tasks: [],
      presence: [],
    });
  });
});

Deno.test("roomStatus() shows live leases, live windows, current work, open tasks and presence", async () => {
  await withRoom(async (room) => {
    await registerTask(room, { type: "FIX", description: "fix it" });
    const task = await room.publish({ type: "FIX", agent: alice, payload: "flaky test" });
    await heartbeat(room, { identity: bob, description: "reviewer" });
    const l1 = await acquireLease(room, { agent: bob, resources: ["path:src/db"], purpose: "x" });
    const l2 = await acquireLease(room, {
      agent: alice,
      resources: ["db:main"],
      purpose: "y",
      ttlMs: 60_000,
    });
    const pending = await requestWindow(room, {
      agent: carol,
      resources: ["path:src"],
      purpose: "migration",
    });
    const active = await requestWindow(room, { agent: alice, resources: ["db:x"], purpose: "z" });
    const ended = await requestWindow(room, {
      agent: alice,
      resources: ["db:y"],
      purpose: "w",
      require: [bob.agent_id],
    });
    assert.equal(ended.outcome, "pending");
    await cancelWindow(room, {
      agent: alice,
      windowId: ended.outcome === "pending" ? ended.window.id : "",
    });
    await setWorkStatus(room, { agent: alice, state: "started", scope: "auth", summary: "on it" });
    await setWorkStatus(room, { agent: bob, state: "completed", scope: "x", summary: "done" });

    const s = await roomStatus(room);
    const ids = (list: { id: string }[]) => list.map((x) => x.id);
    assert.ok(l1.outcome === "acquired" && l2.outcome === "acquired");
    assert.deepEqual(ids(s.leases), [l2.lease.id, l1.lease.id], "soonest expiry first");
    assert.equal(s.lease_count, 2);
    assert.ok(pending.outcome === "pending" && active.outcome === "active");
    assert.deepEqual(ids(s.windows).sort(), [pending.window.id, active.window.id].sort());
    assert.equal(s.window_count, 2);
    assert.deepEqual(s.work.map((w) => w.scope), ["auth"]);
    assert.equal(s.work_count, 1);
    assert.deepEqual(ids(s.open_tasks), [task.id]);
    assert.deepEqual(s.presence.map((p) => [p.identity.agent_id, p.description]), [[
      bob.agent_id,
      "reviewer",
    ]]);

    const capped = await roomStatus(room, { limit: 1 });
    assert.deepEqual(ids(capped.leases), [l2.lease.id]);
    assert.equal(capped.lease_count, 2, "counts stay exact when lists are capped");
    assert.equal(capped.windows.length, 1);
    assert.equal(capped.window_count, 2);
    await assert.rejects(roomStatus(room, { limit: 0 }), InvalidValueError);
  });
});

Deno.test("roomStatus() reads indexes only: the same commands at 10 and 3,000 events", async () => {
  await withRoom(async (room, redis) => {
    await acquireLease(room, { agent: bob, resources: ["path:src/db"], purpose: "x" });
    await setWorkStatus(room, { agent: alice, state: "started", scope: "a", summary: "b" });
    const probe = async () => {
      const port = recordingPort(redis);
      await roomStatus(new Room(port, room.config));
      return commandLog(port.log).sort();
    };
    const small = await probe();
    for (let i = 0; i < 3_000; i += 500) {
      await Promise.all(
        Array.from(
          { length: 500 },
          (_, j) => room.publish({ type: "NOTE", agent: alice, payload: i + j }),
        ),
      );
    }
    assert.deepEqual(await probe(), small);
    assert.ok(!small.some((c) => c.includes("XRANGE") || c.includes("XREVRANGE")), small.join(" "));
  });
});
