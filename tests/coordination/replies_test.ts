import assert from "node:assert/strict";
import {
  decodeGuardReply,
  decodeLeaseAcquireReply,
  decodeLeaseReleaseReply,
  decodeLeaseRenewReply,
  decodeWindowAckReply,
  decodeWindowActivateReply,
  decodeWindowFinishReply,
  decodeWindowRequestReply,
  decodeWorkSetReply,
} from "../../src/coordination/replies.ts";
import { decodeSnapshotReply } from "../../src/coordination/shared.ts";
import { assertUnexpected, ROGUE_REPLIES } from "../support/replies.ts";

const lease = {
  id: "a".repeat(32),
  owner: "bob-bbbb2222",
  purpose: "p",
  resources: ["path:src"],
  created_at: 1,
  expires_at: 900,
};
const LEASE = JSON.stringify(lease);
const window = {
  id: "b".repeat(32),
  owner: "bob-bbbb2222",
  purpose: "p",
  resources: ["path:src"],
  state: "pending",
  required: ["carol-cccc3333"],
  via_lease: [],
  acknowledged: [],
  created_at: 1,
  ack_deadline: 500,
  expires_at: 500,
  ttl_ms: 60_000,
};
const WINDOW = JSON.stringify(window);
const ACTIVE = JSON.stringify({ ...window, state: "active" });

/** Checks that each of `replies` (plus the rogue ones) throws, naming `script`. */
function refuses(decode: (reply: unknown) => unknown, script: string, replies: unknown[]): void {
  for (const reply of [...ROGUE_REPLIES, ...replies]) {
    assertUnexpected(() => decode(reply), script, `${script}: ${JSON.stringify(reply)}`);
  }
}

Deno.test("lease_acquire: ok, exists, lease and window conflicts decode; anything else throws", () => {
  assert.deepEqual(decodeLeaseAcquireReply(["ok", LEASE, "1-0"]), {
    outcome: "acquired",
    lease,
    auditId: "1-0",
  });
  assert.deepEqual(decodeLeaseAcquireReply(["exists"]), { outcome: "exists" });
  assert.deepEqual(decodeLeaseAcquireReply(["lease", 100, "path:src/a", "path:src", LEASE]), {
    outcome: "conflict",
    conflict: {
      kind: "lease",
      resource: "path:src/a",
      conflictsWith: "path:src",
      owner: lease.owner,
      leaseId: lease.id,
      expiresAt: 900,
      checkedAt: 100,
    },
  });
  const w = decodeLeaseAcquireReply(["window", 600, "path:src", "path:src", WINDOW]);
  assert.equal(w.outcome, "conflict");
  if (w.outcome === "conflict") {
    assert.equal(w.conflict.kind, "window");
    if (w.conflict.kind === "window") assert.equal(w.conflict.state, "expired", "derived at 600");
  }
  refuses(decodeLeaseAcquireReply, "lease_acquire", [
    ["missing"],
    ["ok", "{not json", "1-0"],
    ["ok", LEASE],
    ["lease", 100, "path:src/a", "path:src"],
    ["conflict", 100, "path:src/a", "path:src", LEASE],
  ]);
});

Deno.test("lease_renew and lease_release: documented replies decode; anything else throws", () => {
  assert.equal(decodeLeaseRenewReply(["ok", LEASE, "2-0"]).outcome, "renewed");
  assert.deepEqual(decodeLeaseRenewReply(["missing"]), { outcome: "missing" });
  assert.deepEqual(decodeLeaseRenewReply(["not_owner", "x"]), { outcome: "not_owner", owner: "x" });
  assert.equal(
    decodeLeaseRenewReply(["window", 1, "path:a", "path:a", WINDOW]).outcome,
    "conflict",
  );
  // renew never meets a lease: another agent's lease cannot overlap the caller's own
  refuses(decodeLeaseRenewReply, "lease_renew", [["lease", 1, "path:a", "path:a", LEASE]]);
  assert.equal(decodeLeaseReleaseReply(["ok", LEASE, "3-0"]).outcome, "released");
  assert.deepEqual(decodeLeaseReleaseReply(["missing"]), { outcome: "missing" });
  assert.deepEqual(decodeLeaseReleaseReply(["not_owner", "x"]), {
    outcome: "not_owner",
    owner: "x",
  });
  refuses(decodeLeaseReleaseReply, "lease_release", [["not_held"], ["missing", "x"]]);
});

Deno.test("window_request: ok, window, retry and exists decode; anything else throws", () => {
  assert.equal(decodeWindowRequestReply(["ok", WINDOW, "4-0"]).outcome, "pending");
  assert.equal(decodeWindowRequestReply(["ok", ACTIVE, "4-0"]).outcome, "active");
  assert.equal(
    decodeWindowRequestReply(["window", 1, "path:a", "path:a", WINDOW]).outcome,
    "conflict",
  );
  assert.deepEqual(decodeWindowRequestReply(["retry", '["carol-cccc3333"]']), {
    outcome: "retry",
    required: ["carol-cccc3333"],
  });
  assert.deepEqual(decodeWindowRequestReply(["exists"]), { outcome: "exists" });
  refuses(decodeWindowRequestReply, "window_request", [
    ["retry", "{}"],
    ["retry", "[1]"],
    ["lease", 1, "path:a", "path:a", LEASE],
    ["missing"],
  ]);
});

Deno.test("window_ack, window_activate, window_finish: documented replies decode; others throw", () => {
  const ack = decodeWindowAckReply(["ok", WINDOW, ""]);
  assert.equal(ack.outcome, "acknowledged");
  if (ack.outcome === "acknowledged") assert.equal(ack.already, true);
  assert.deepEqual(decodeWindowAckReply(["state", "active"]), {
    outcome: "state",
    state: "active",
  });
  assert.deepEqual(decodeWindowAckReply(["expired"]), { outcome: "expired" });
  assert.deepEqual(decodeWindowAckReply(["missing"]), { outcome: "missing" });
  assert.deepEqual(decodeWindowAckReply(["not_required", "bob"]), {
    outcome: "not_required",
    owner: "bob",
  });
  refuses(decodeWindowAckReply, "window_ack", [["state", "asleep"], ["not_owner", "bob"]]);

  assert.equal(decodeWindowActivateReply(["ok", ACTIVE, "5-0"]).outcome, "activated");
  assert.deepEqual(decodeWindowActivateReply(["acks", 42, "carol", "dave"]), {
    outcome: "acks",
    checkedAt: 42,
    outstanding: ["carol", "dave"],
  });
  assert.equal(
    decodeWindowActivateReply(["lease", 1, "path:a", "path:a", LEASE]).outcome,
    "conflict",
  );
  for (const tag of ["missing", "expired"]) {
    assert.deepEqual(decodeWindowActivateReply([tag]), { outcome: tag });
  }
  assert.deepEqual(decodeWindowActivateReply(["not_owner", "x"]), {
    outcome: "not_owner",
    owner: "x",
  });
  refuses(decodeWindowActivateReply, "window_activate", [
    ["acks", 42],
    ["acks", 42, 7],
    ["window", 1, "path:a", "path:a", WINDOW],
    ["not_required", "x"],
  ]);

  const released = decodeWindowFinishReply(["ok", ACTIVE, "6-0"], "release");
  assert.equal(released.outcome, "released");
  assert.equal(decodeWindowFinishReply(["ok", WINDOW, ""], "cancel").outcome, "cancelled");
  assert.deepEqual(decodeWindowFinishReply(["state", "pending"], "release"), {
    outcome: "state",
    state: "pending",
  });
  assert.deepEqual(decodeWindowFinishReply(["missing"], "cancel"), { outcome: "missing" });
  refuses((r) => decodeWindowFinishReply(r, "release"), "window_finish", [
    ["expired"],
    ["acks", 1],
  ]);
});

Deno.test("guard, work_set and coord_snapshot replies decode strictly", () => {
  const lookup = decodeGuardReply(
    [100, ["path:src/a", "path:src", LEASE], ["path:src/a", "path:src", WINDOW], LEASE],
    ["path:src/a"],
  );
  assert.equal(lookup.now, 100);
  assert.deepEqual(lookup.leases, [{ requested: "path:src/a", held: "path:src", lease }]);
  assert.equal(lookup.windows[0]!.window.state, "pending");
  assert.deepEqual(lookup.named, lease);
  assert.equal(decodeGuardReply([100, [], [], ""], []).named, undefined);
  refuses((r) => decodeGuardReply(r, []), "guard", [
    [100, ["a", "b"], [], ""],
    [100, [], [], "{"],
    [100, [], []],
    ["x", [], [], ""],
  ]);

  const status = { schema_version: 1, id: "c".repeat(32), state: "started" };
  assert.deepEqual(decodeWorkSetReply([JSON.stringify(status), "7-0", ""]), {
    status,
    auditId: "7-0",
  });
  assert.equal(decodeWorkSetReply([JSON.stringify(status), "7-0", "8-0"]).inboxId, "8-0");
  refuses(decodeWorkSetReply, "work_set", [["{", "7-0", ""], [JSON.stringify(status), "7-0"]]);

  const snapshot = decodeSnapshotReply([100, 1, [LEASE], 1, [WINDOW], 0, []]);
  assert.equal(snapshot.leases[0]!.id, lease.id);
  assert.equal(snapshot.windows[0]!.state, "pending");
  refuses(decodeSnapshotReply, "coord_snapshot", [
    [100, 1, [LEASE], 1, [WINDOW], 0],
    [100, 1, ["{"], 0, [], 0, []],
    [100, "one", [], 0, [], 0, []],
  ]);
});
