import assert from "node:assert/strict";
import { sweepLapses } from "../../src/coordination/lapses.ts";
import { roomConfig } from "../../src/config.ts";
import { InvalidValueError, RedisCommandError } from "../../src/errors.ts";
import {
  acquireLease,
  DEFAULT_LEASE_TTL_MS,
  type Lease,
  listLeases,
  releaseLease,
  renewLease,
} from "../../src/coordination/leases.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { uniqueRepo } from "../support/redis.ts";
import { withRoom } from "../support/room.ts";
import {
  alice,
  bob,
  coordSizes,
  eventsOf,
  serverPassed,
  untouchablePort,
} from "../support/coord.ts";

async function acquired(room: Room, agent = alice, resources = ["path:src/db"], ttlMs?: number) {
  const r = await acquireLease(room, { agent, resources, purpose: "test", ttlMs });
  assert.equal(r.outcome, "acquired", JSON.stringify(r));
  return (r as { lease: Lease }).lease;
}

Deno.test("acquireLease() stores a normalised lease on server time and writes LEASE_ACQUIRED", async () => {
  await withRoom(async (room) => {
    const before = await room.serverTime();
    const r = await acquireLease(room, {
      agent: alice,
      resources: ["path:src/db/", "db:main", "path:src/db"],
      purpose: "  migrate the schema ",
    });
    assert.equal(r.outcome, "acquired");
    if (r.outcome !== "acquired") return;
    const { lease } = r;
    assert.match(lease.id, /^[0-9a-f]{32}$/);
    assert.equal(lease.owner, alice.agent_id);
    assert.equal(lease.purpose, "migrate the schema");
    assert.deepEqual(lease.resources, ["db:main", "path:src/db"]);
    assert.ok(lease.created_at >= before);
    assert.equal(lease.expires_at - lease.created_at, DEFAULT_LEASE_TTL_MS);
    const [event] = await eventsOf(room, "LEASE_ACQUIRED");
    assert.equal(event!.id, r.auditId);
    assert.equal(event!.agent_id, alice.agent_id);
    assert.equal(event!.agent_handle, "alice");
    assert.equal(event!.session_id, "aaaa1111");
    assert.equal(event!.timestamp, lease.created_at, "one clock reading");
    assert.deepEqual(event!.payload, { schema_version: 1, lease });
    assert.deepEqual(await listLeases(room), [lease]);
  });
});

Deno.test("acquireLease() refuses overlaps, naming the resource, holder and lease; siblings pass", async () => {
  await withRoom(async (room) => {
    const held = await acquired(room, bob, ["path:src/db", "db:main"]);
    const cases: [string, string][] = [
      ["path:src/db", "path:src/db"], // equal
      ["path:src", "path:src/db"], // ancestor
      ["path:src/db/schema.sql", "path:src/db"], // descendant
      ["db:main", "db:main"],
    ];
    for (const [requested, conflictsWith] of cases) {
      const r = await acquireLease(room, {
        agent: alice,
        resources: ["path:docs", requested],
        purpose: "x",
      });
      assert.equal(r.outcome, "conflict", requested);
      if (r.outcome !== "conflict") continue;
      assert.deepEqual({ ...r.conflict, checkedAt: 0 }, {
        kind: "lease",
        resource: requested,
        conflictsWith,
        owner: bob.agent_id,
        leaseId: held.id,
        expiresAt: held.expires_at,
        checkedAt: 0,
      });
      assert.ok(r.conflict.checkedAt >= held.created_at);
    }
    // all or none: path:docs was not taken by any refused request
    assert.deepEqual((await listLeases(room)).map((l) => l.id), [held.id]);
    for (const free of ["path:src/dbx", "path:src/d", "path:srcdb", "db:main2", "db:mai"]) {
      await acquired(room, alice, [free]);
    }
    // what bob's session holds is never a conflict for it: bob himself, or another
    // handle of the same session (a harness's subagent), may take an overlapping lease
    const own = await acquireLease(room, {
      agent: bob,
      resources: ["path:src/db/x"],
      purpose: "x",
    });
    assert.equal(own.outcome, "acquired");
    const subagent = resolveIdentity("bob-helper", bob.session_id);
    const sub = await acquireLease(room, {
      agent: subagent,
      resources: ["path:src/db"],
      purpose: "x",
    });
    assert.equal(sub.outcome, "acquired");
    assert.equal(sub.outcome === "acquired" && sub.lease.session, bob.session_id);
    assert.equal((await eventsOf(room, "LEASE_ACQUIRED")).length, 8);
  });
});

Deno.test("acquireLease(): of many concurrent overlapping requests exactly one wins", async () => {
  await withRoom(async (room) => {
    // 30 sessions (a session's own leases never conflict for it, so each request
    // comes from a session of its own); every request overlaps every other one
    // (equal paths or ancestor/descendant)
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      acquireLease(room, {
        agent: resolveIdentity("racer", `race${i}`),
        resources: [i % 2 === 0 ? "path:src" : "path:src/a/b", `db:n${i}`],
        purpose: `try ${i}`,
      })));
    const winners = results.filter((r) => r.outcome === "acquired");
    assert.equal(winners.length, 1);
    const leases = await listLeases(room);
    assert.deepEqual(leases, winners.map((w) => w.outcome === "acquired" && w.lease));
    for (const r of results) {
      if (r.outcome === "conflict") {
        assert.equal(r.conflict.kind === "lease" && r.conflict.leaseId, leases[0]!.id);
      }
    }
    assert.equal((await eventsOf(room, "LEASE_ACQUIRED")).length, 1);
  });
});

Deno.test("renewLease(): owner only, extends from now, refused once lapsed", async () => {
  await withRoom(async (room) => {
    const lease = await acquired(room, alice, ["path:src/db"], 60_000);
    const renewed = await renewLease(room, { agent: alice, leaseId: lease.id, ttlMs: 120_000 });
    assert.equal(renewed.outcome, "renewed");
    if (renewed.outcome !== "renewed") return;
    assert.equal(renewed.lease.created_at, lease.created_at);
    assert.ok(renewed.lease.expires_at >= lease.created_at + 120_000);
    const [event] = await eventsOf(room, "LEASE_RENEWED");
    assert.equal(event!.id, renewed.auditId);
    assert.equal(event!.timestamp + 120_000, renewed.lease.expires_at);
    assert.deepEqual(await renewLease(room, { agent: bob, leaseId: lease.id }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    assert.deepEqual(await renewLease(room, { agent: alice, leaseId: "0".repeat(32) }), {
      outcome: "missing",
    });
    const short = await acquired(room, alice, ["db:short"], 30);
    await serverPassed(room, short.expires_at);
    assert.deepEqual(await renewLease(room, { agent: alice, leaseId: short.id }), {
      outcome: "missing",
    });
    assert.equal((await eventsOf(room, "LEASE_RENEWED")).length, 1);
  });
});

Deno.test("releaseLease(): owner only, frees the resources, a missing lease is reported", async () => {
  await withRoom(async (room) => {
    const lease = await acquired(room, alice, ["path:src/db", "db:main"]);
    assert.deepEqual(await releaseLease(room, { agent: bob, leaseId: lease.id }), {
      outcome: "not_owner",
      owner: alice.agent_id,
    });
    const released = await releaseLease(room, { agent: alice, leaseId: lease.id });
    assert.equal(released.outcome, "released");
    const [event] = await eventsOf(room, "LEASE_RELEASED");
    assert.equal(event!.id, released.outcome === "released" && released.auditId);
    assert.deepEqual(event!.payload, { schema_version: 1, lease });
    assert.deepEqual(await releaseLease(room, { agent: alice, leaseId: lease.id }), {
      outcome: "missing",
    });
    assert.deepEqual(await listLeases(room), []);
    await acquired(room, bob, ["path:src/db/x", "db:main"]);
    assert.equal((await eventsOf(room, "LEASE_RELEASED")).length, 1, "no event for a miss");
  });
});

Deno.test("a lapsed lease frees its resources, is kept until its notice is written, and the keys expire", async () => {
  await withRoom(async (room, redis) => {
    const lease = await acquired(room, alice, ["path:src/db", "db:main"], 40);
    const pttl = await redis.call(["PTTL", room.keys.leases]) as number;
    assert.ok(
      pttl > 0 && pttl <= 40 + 86_400_000,
      `the lease keys expire a day after their last lease (${pttl})`,
    );
    await serverPassed(room, lease.expires_at);
    assert.deepEqual(await listLeases(room), []);
    const next = await acquired(room, bob, ["path:src/db/x"], 60_000);
    // the lapsed lease is kept (not live) until its LEASE_EXPIRED notice is written
    assert.deepEqual(
      (await redis.call(["HKEYS", room.keys.leases]) as string[]).sort(),
      [lease.id, next.id].sort(),
    );
    assert.equal((await sweepLapses(room)).notices, 1);
    assert.deepEqual(await redis.call(["HKEYS", room.keys.leases]), [next.id]);
    assert.deepEqual(await redis.call(["ZRANGE", room.keys.leaseExpiry, 0, -1]), [next.id]);
    assert.deepEqual(await redis.call(["ZRANGE", room.keys.leaseResources, 0, -1]), [
      `path:src/db/x\u0000${next.id}`,
    ]);
    assert.ok((await redis.call(["PTTL", room.keys.leaseResources]) as number) > 40_000);
    await releaseLease(room, { agent: bob, leaseId: next.id });
    for (const key of [room.keys.leases, room.keys.leaseExpiry, room.keys.leaseResources]) {
      assert.equal(await redis.call(["EXISTS", key]), 0, `${key} is gone with the last lease`);
    }
  });
});

Deno.test("lease functions reject bad input before touching Redis", async () => {
  const port = untouchablePort();
  const room = new Room(port, roomConfig({ repo: uniqueRepo(), branch: "main" }));
  const bad: Promise<unknown>[] = [
    acquireLease(room, { agent: alice, resources: [], purpose: "x" }),
    acquireLease(room, { agent: alice, resources: ["path:../x"], purpose: "x" }),
    acquireLease(room, { agent: alice, resources: ["db:x"], purpose: " " }),
    acquireLease(room, { agent: alice, resources: ["db:x"], purpose: "a\nb" }),
    acquireLease(room, { agent: alice, resources: ["db:x"], purpose: "x", ttlMs: 0 }),
    acquireLease(room, { agent: alice, resources: ["db:x"], purpose: "x", ttlMs: 86_400_001 }),
    acquireLease(room, { agent: alice, resources: ["db:x"], purpose: "x", ttlMs: 1.5 }),
    renewLease(room, { agent: alice, leaseId: "nope" }),
    renewLease(room, { agent: alice, leaseId: "0".repeat(32), ttlMs: -1 }),
    releaseLease(room, { agent: alice, leaseId: "A".repeat(32) }),
  ];
  for (const [i, p] of bad.entries()) {
    await assert.rejects(p, InvalidValueError, `#${i}`);
  }
  assert.equal(port.used, 0);
});

for (
  const key of [
    "events",
    "typesSeen",
    "leases",
    "leaseExpiry",
    "leaseResources",
    "windows",
    "windowsLive",
    "windowsKeep",
  ] as const
) {
  Deno.test(`lease scripts write nothing when ${key} has the wrong type`, async () => {
    await withRoom(async (room, redis) => {
      const held = await acquired(room, alice, ["db:held"]);
      const before = await coordSizes(room);
      const aside = `${room.keys.prefix}:aside`;
      const existed = await redis.call(["EXISTS", room.keys[key]]) === 1;
      if (existed) await redis.call(["RENAME", room.keys[key], aside]);
      await redis.call(["SET", room.keys[key], "wrong type"]);
      const attempts = [
        acquireLease(room, { agent: bob, resources: ["db:new"], purpose: "x" }),
        renewLease(room, { agent: alice, leaseId: held.id }),
        releaseLease(room, { agent: alice, leaseId: held.id }),
      ];
      for (const [i, attempt] of attempts.entries()) {
        await assert.rejects(attempt, RedisCommandError, `#${i}`);
      }
      assert.equal(await redis.call(["GET", room.keys[key]]), "wrong type");
      await redis.call(["DEL", room.keys[key]]);
      if (existed) await redis.call(["RENAME", aside, room.keys[key]]);
      assert.deepEqual(await coordSizes(room), before, "nothing was written");
      assert.deepEqual((await listLeases(room)).map((l) => l.id), [held.id]);
    });
  });
}
