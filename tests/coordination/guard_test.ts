import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { InvalidValueError } from "../../src/errors.ts";
import {
  type GuardOptions,
  guardResources,
  type GuardVerdict,
} from "../../src/coordination/guard.ts";
import { acquireLease, type Lease, releaseLease } from "../../src/coordination/leases.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { requestWindow } from "../../src/coordination/windows.ts";
import { uniqueRepo } from "../support/redis.ts";
import { withRoom } from "../support/room.ts";
import { alice, bob, carol, coordSizes, serverPassed, untouchablePort } from "../support/coord.ts";

async function lease(room: Room, agent: typeof alice, resources: string[], ttlMs?: number) {
  const r = await acquireLease(room, { agent, resources, purpose: "work", ttlMs });
  assert.equal(r.outcome, "acquired", JSON.stringify(r));
  return (r as { lease: Lease }).lease;
}

/** The verdict without its timestamps, for deepEqual. */
function plain(v: GuardVerdict): unknown {
  const { checkedAt: _, ...rest } = v;
  if ("conflict" in rest) {
    // the first conflict is also the first of the list (one per conflicting resource)
    const { conflicts, ...first } = rest;
    assert.deepEqual(conflicts[0], first.conflict);
    const { checkedAt: _c, expiresAt: _e, ...conflict } = first.conflict;
    return { ...first, conflict };
  }
  return rest;
}

async function check(room: Room, options: Omit<GuardOptions, "agentId">, agent = alice) {
  return plain(await guardResources(room, { agentId: agent.agent_id, ...options }));
}

Deno.test("guardResources(): another agent's overlapping lease is a conflict naming holder and lease", async () => {
  await withRoom(async (room) => {
    assert.deepEqual(await check(room, { resources: ["path:src/db"] }), { safe: true, held: [] });
    const theirs = await lease(room, bob, ["path:src/db"]);
    for (
      const [requested, conflictsWith] of [["path:src/db", "path:src/db"], [
        "path:src",
        "path:src/db",
      ], ["path:src/db/x.sql", "path:src/db"]]
    ) {
      assert.deepEqual(await check(room, { resources: ["db:free", requested!] }), {
        safe: false,
        reason: "conflict",
        conflict: {
          kind: "lease",
          resource: requested,
          conflictsWith,
          owner: bob.agent_id,
          leaseId: theirs.id,
        },
      });
    }
    assert.deepEqual(await check(room, { resources: ["path:src/dbx", "path:src/d"] }), {
      safe: true,
      held: [],
    });
    // a guard writes nothing, not even pruning
    const before = await coordSizes(room);
    await check(room, { resources: ["path:src"] });
    assert.deepEqual(await coordSizes(room), before);
  });
});

Deno.test("guardResources(): the caller's own leases are never conflicts (fix of the Go guard)", async () => {
  await withRoom(async (room) => {
    const covering = await lease(room, alice, ["path:src/db"]);
    const other = await lease(room, alice, ["path:docs/api"]);
    // covered by one own lease, another own lease elsewhere: safe and held
    assert.deepEqual(
      await check(room, { resources: ["path:src/db/x.sql", "path:docs/api"], requireHeld: true }),
      { safe: true, held: ["path:docs/api", "path:src/db/x.sql"] },
    );
    // own lease below the requested directory: no conflict, but not held
    assert.deepEqual(await check(room, { resources: ["path:docs"] }), { safe: true, held: [] });
    assert.deepEqual(await check(room, { resources: ["path:docs"], requireHeld: true }), {
      safe: false,
      reason: "not_held",
      resource: "path:docs",
    });
    // --lease narrows holding to that lease
    assert.deepEqual(
      await check(room, {
        resources: ["path:src/db/x.sql"],
        leaseId: covering.id,
        requireHeld: true,
      }),
      { safe: true, held: ["path:src/db/x.sql"] },
    );
    assert.deepEqual(
      await check(room, { resources: ["path:src/db/x.sql"], leaseId: other.id, requireHeld: true }),
      { safe: false, reason: "not_held", resource: "path:src/db/x.sql" },
    );
    assert.deepEqual(
      await check(room, { resources: ["path:src/db/x.sql"], leaseId: other.id }),
      { safe: true, held: [] },
    );
    // for someone else the same leases are conflicts
    assert.equal(
      (await guardResources(room, { agentId: bob.agent_id, resources: ["path:src"] })).safe,
      false,
    );
  });
});

Deno.test("guardResources(): a named lease must be live and the caller's", async () => {
  await withRoom(async (room) => {
    const theirs = await lease(room, bob, ["db:main"]);
    assert.deepEqual(await check(room, { resources: ["db:other"], leaseId: theirs.id }), {
      safe: false,
      reason: "not_owner",
      leaseId: theirs.id,
      owner: bob.agent_id,
    });
    const short = await lease(room, alice, ["db:other"], 30);
    assert.deepEqual(await check(room, { resources: ["db:other"], leaseId: short.id }), {
      safe: true,
      held: ["db:other"],
    });
    await serverPassed(room, short.expires_at);
    assert.deepEqual(await check(room, { resources: ["db:other"], leaseId: short.id }), {
      safe: false,
      reason: "lease_missing",
      leaseId: short.id,
    });
    await releaseLease(room, { agent: bob, leaseId: theirs.id });
    assert.deepEqual(await check(room, { resources: ["db:main"], requireHeld: true }), {
      safe: false,
      reason: "not_held",
      resource: "db:main",
    });
  });
});

Deno.test("guardResources(): others' live windows conflict; the owner's own window does not", async () => {
  await withRoom(async (room) => {
    await lease(room, carol, ["path:src/db/seed.sql"]); // makes bob's window pending
    const pending = await requestWindow(room, {
      agent: bob,
      resources: ["path:src/db"],
      purpose: "migration",
    });
    assert.equal(pending.outcome, "pending");
    const windowId = pending.outcome === "pending" ? pending.window.id : "";
    assert.deepEqual(await check(room, { resources: ["path:src/db/x"] }), {
      safe: false,
      reason: "conflict",
      conflict: {
        kind: "window",
        resource: "path:src/db/x",
        conflictsWith: "path:src/db",
        owner: bob.agent_id,
        windowId,
        state: "pending",
      },
    });
    // the owner's pending window: not a conflict, not held yet
    assert.deepEqual(await check(room, { resources: ["path:src/db/x"] }, bob), {
      safe: true,
      held: [],
    });
    const active = await requestWindow(room, {
      agent: alice,
      resources: ["db:main"],
      purpose: "x",
    });
    assert.equal(active.outcome, "active");
    assert.deepEqual(await check(room, { resources: ["db:main"], requireHeld: true }), {
      safe: true,
      held: ["db:main"],
    });
  });
});

Deno.test("guardResources() rejects malformed resources before touching Redis", async () => {
  const port = untouchablePort();
  const room = new Room(port, roomConfig({ repo: uniqueRepo(), branch: "main" }));
  for (const resources of [[], ["src/db"], ["path:../x"], ["PATH:x"]]) {
    await assert.rejects(
      guardResources(room, { agentId: alice.agent_id, resources }),
      InvalidValueError,
    );
  }
  assert.equal(port.used, 0);
});

Deno.test("guardResources(): every conflicting resource is reported; the caller's session is self", async () => {
  await withRoom(async (room) => {
    const mine = await lease(room, alice, ["path:src/a.ts"]);
    const bobs = await lease(room, bob, ["path:src/b.ts"]);
    const carols = await lease(room, carol, ["path:src/c"]);
    const resources = ["path:src/a.ts", "path:src/b.ts", "path:src/c/d.ts", "path:src/free.ts"];
    const verdict = await guardResources(room, { agentId: alice.agent_id, resources });
    assert.equal(verdict.safe, false);
    if (verdict.safe || verdict.reason !== "conflict") return;
    assert.deepEqual(
      verdict.conflicts.map((c) => [c.resource, c.owner, c.kind === "lease" && c.leaseId]),
      [
        ["path:src/b.ts", bob.agent_id, bobs.id],
        ["path:src/c/d.ts", carol.agent_id, carols.id],
      ],
    );
    // another handle of alice's session (a subagent): alice's lease is its own
    const helper = resolveIdentity("alice-helper", alice.session_id);
    const bySession = await guardResources(room, {
      agentId: helper.agent_id,
      sessionId: helper.session_id,
      resources: ["path:src/a.ts"],
      requireHeld: true,
    });
    assert.deepEqual({ ...bySession, checkedAt: 0 }, {
      safe: true,
      held: ["path:src/a.ts"],
      checkedAt: 0,
    });
    // without the session, the same handle sees alice's lease as someone else's
    const byId = await guardResources(room, {
      agentId: helper.agent_id,
      resources: ["path:src/a.ts"],
    });
    assert.equal(
      !byId.safe && byId.reason === "conflict" && byId.conflict.kind === "lease" &&
        byId.conflict.leaseId,
      mine.id,
    );
  });
});
