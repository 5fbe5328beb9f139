/**
 * Test support: a plain model of the lease, guard and window rules, and the
 * check that replays a room's audit stream through it against what the
 * workers of `coordinator.ts` were answered. Used by the property test
 * (`tests/coordination/property_test.ts`) and by the chaos suite
 * (`scripts/chaos/`), which runs the same check at scale.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { RoomEvent } from "../../src/codec.ts";
import { clash, clashAny, type OpRecord } from "./coordinator.ts";
/** A lease in the model. */
export interface MLease {
  id: string;
  owner: string;
  resources: string[];
  expires: number;
}
/** A window in the model. */
export interface MWindow {
  id: string;
  owner: string;
  resources: string[];
  state: "pending" | "active" | "released" | "cancelled";
  required: string[];
  via: string[];
  acked: Set<string>;
  deadline: number;
  expires: number;
  ttl: number;
  immediate: boolean;
}

function within(held: string, r: string): boolean {
  if (held === r) return true;
  if (!held.startsWith("path:") || !r.startsWith("path:")) return false;
  const h = held.slice(5).split("/");
  const x = r.slice(5).split("/");
  return h.length < x.length && x.slice(0, h.length).join("/") === h.join("/");
}

/** The rules, as plainly as possible. */
export class Model {
  leases = new Map<string, MLease>();
  windows = new Map<string, MWindow>();

  lease(id: string, t: number): MLease | undefined {
    const l = this.leases.get(id);
    return l && l.expires > t ? l : undefined;
  }
  liveLeases(t: number): MLease[] {
    return [...this.leases.values()].filter((l) => l.expires > t);
  }
  isLive(w: MWindow, t: number): boolean {
    return (w.state === "pending" && w.deadline > t) || (w.state === "active" && w.expires > t);
  }
  liveWindows(t: number): MWindow[] {
    return [...this.windows.values()].filter((w) => this.isLive(w, t));
  }
  outstanding(w: MWindow, t: number): string[] {
    return w.required.filter((a) =>
      !w.acked.has(a) &&
      (!w.via.includes(a) ||
        this.liveLeases(t).some((l) => l.owner === a && clashAny(l.resources, w.resources)))
    );
  }
  /** Applies one audit event; returns what was illegal about it. */
  apply(e: RoomEvent): string[] {
    const t = e.timestamp;
    const p = e.payload as Record<string, Record<string, unknown>>;
    const bad: string[] = [];
    const need = (ok: unknown, what: string) => ok || bad.push(`${e.type} ${e.id}: ${what}`);
    if (e.type.startsWith("LEASE_")) {
      const l = p.lease as unknown as {
        id: string;
        owner: string;
        resources: string[];
        expires_at: number;
      };
      need(l.owner === e.agent_id, "the owner acts");
      if (e.type === "LEASE_ACQUIRED") {
        need(!this.leases.has(l.id), "fresh id");
        for (const o of this.liveLeases(t)) {
          need(
            o.owner === l.owner || !clashAny(o.resources, l.resources),
            `overlaps lease ${o.id}`,
          );
        }
        for (const w of this.liveWindows(t)) {
          need(w.owner === l.owner || !clashAny(w.resources, l.resources), `inside window ${w.id}`);
        }
        this.leases.set(l.id, {
          id: l.id,
          owner: l.owner,
          resources: l.resources,
          expires: l.expires_at,
        });
      } else {
        const live = this.lease(l.id, t);
        need(live && live.owner === l.owner, "a live lease of its owner");
        if (e.type === "LEASE_RENEWED" && live) {
          for (const w of this.liveWindows(t)) {
            need(
              w.state !== "pending" || w.owner === live.owner ||
                !clashAny(w.resources, live.resources),
              `renewed inside pending window ${w.id}`,
            );
          }
          live.expires = l.expires_at;
        } else this.leases.delete(l.id);
      }
    } else if (e.type.startsWith("WINDOW_")) {
      const x = p.window as unknown as {
        id: string;
        owner: string;
        resources: string[];
        state: MWindow["state"];
        required: string[];
        via_lease: string[];
        ack_deadline: number;
        expires_at: number;
        ttl_ms: number;
      };
      const w = this.windows.get(x.id);
      if (e.type === "WINDOW_REQUESTED") {
        need(!w, "fresh id");
        for (const o of this.liveWindows(t)) {
          need(!clashAny(o.resources, x.resources), `overlaps window ${o.id}`);
        }
        const holders = new Set(
          this.liveLeases(t).filter((l) =>
            l.owner !== x.owner && clashAny(l.resources, x.resources)
          ).map((l) => l.owner),
        );
        for (const h of holders) need(x.required.includes(h), `lease holder ${h} is required`);
        for (const v of x.via_lease) need(holders.has(v), `${v} holds a lease`);
        need(!x.required.includes(x.owner), "the owner is never required");
        need((x.state === "active") === (x.required.length === 0), "active iff nobody to ask");
        if (x.state === "active") need(x.expires_at === t + x.ttl_ms, "active until now + ttl");
        else need(x.ack_deadline > t, "a deadline ahead");
        this.windows.set(x.id, {
          id: x.id,
          owner: x.owner,
          resources: x.resources,
          state: x.state,
          required: x.required,
          via: x.via_lease,
          acked: new Set(),
          deadline: x.ack_deadline,
          expires: x.expires_at,
          ttl: x.ttl_ms,
          immediate: x.state === "active",
        });
        return bad;
      }
      if (!w) return [...bad, `${e.type} ${e.id}: unknown window`];
      if (e.type === "WINDOW_ACK_REQUIRED") need(w.required.includes(e.to), "to a required agent");
      else if (e.type === "WINDOW_ACTIVATED" && w.immediate) w.immediate = false;
      else if (e.type === "WINDOW_ACTIVATED") {
        need(
          w.owner === e.agent_id && w.state === "pending" && t < w.deadline,
          "owner, pending, in time",
        );
        need(this.outstanding(w, t).length === 0, "all acks in");
        for (const l of this.liveLeases(t)) {
          need(
            l.owner === w.owner || !clashAny(l.resources, w.resources),
            `lease ${l.id} still overlaps`,
          );
        }
        need(x.expires_at === t + w.ttl, "active until now + ttl");
        w.state = "active";
        w.expires = x.expires_at;
      } else if (e.type === "WINDOW_ACKNOWLEDGED") {
        need(w.state === "pending" && t < w.deadline, "pending, in time");
        need(
          w.required.includes(e.agent_id) && !w.acked.has(e.agent_id),
          "a new ack by a required agent",
        );
        w.acked.add(e.agent_id);
      } else if (e.type === "WINDOW_RELEASED" || e.type === "WINDOW_CANCELLED") {
        const from = e.type === "WINDOW_RELEASED" ? "active" : "pending";
        need(w.owner === e.agent_id && w.state === from, `the owner ends a ${from} window`);
        w.state = e.type === "WINDOW_RELEASED" ? "released" : "cancelled";
      } else bad.push(`unexpected ${e.type}`);
    }
    return bad;
  }
  /** The invariants at time t. */
  invariants(t: number): string[] {
    const bad: string[] = [];
    const ls = this.liveLeases(t);
    const ws = this.liveWindows(t);
    ls.forEach((a, i) =>
      ls.slice(i + 1).forEach((b) =>
        a.owner !== b.owner && clashAny(a.resources, b.resources) &&
        bad.push(`leases ${a.id} ${b.id} overlap`)
      )
    );
    ws.forEach((a, i) =>
      ws.slice(i + 1).forEach((b) =>
        clashAny(a.resources, b.resources) && bad.push(`windows ${a.id} ${b.id} overlap`)
      )
    );
    for (const w of ws.filter((w) => w.state === "active")) {
      for (const l of ls) {
        if (l.owner !== w.owner && clashAny(l.resources, w.resources)) {
          bad.push(`window ${w.id} and lease ${l.id}`);
        }
      }
    }
    return bad;
  }
  /** Times in [lo, hi] where some lifetime ends: the instants worth checking. */
  instants(lo: number, hi: number): number[] {
    const out = new Set([lo, hi]);
    const add = (x: number) => {
      for (const y of [x - 1, x]) if (y > lo && y < hi) out.add(y);
    };
    for (const l of this.leases.values()) add(l.expires);
    for (const w of this.windows.values()) [w.deadline, w.expires].forEach(add);
    return [...out];
  }
}

type Guard = {
  safe: boolean;
  reason?: string;
  held?: string[];
  resource?: string;
  leaseId?: string;
  owner?: string;
  conflict?: Conflict;
};
type Conflict = {
  kind: string;
  resource: string;
  conflictsWith: string;
  owner: string;
  leaseId?: string;
  windowId?: string;
  state?: string;
  checkedAt: number;
};

/** Whether answer `rec` is right in model state `m` at instant `t`. */
export function justified(m: Model, t: number, rec: OpRecord): boolean {
  const r = rec.result as Record<string, unknown> & { outcome?: string };
  const me = rec.agent;
  const a = rec.args as {
    resources: string[];
    leaseId: string;
    windowId: string;
    requireHeld?: boolean;
  };
  const realConflict = (c: Conflict, selfOk: boolean) => {
    if (c.checkedAt !== t || !clash(c.resource, c.conflictsWith)) return false;
    if (c.kind === "lease") {
      const l = m.lease(c.leaseId!, t);
      return !!l && l.owner === c.owner && l.resources.includes(c.conflictsWith) &&
        (selfOk || l.owner !== me);
    }
    const w = m.windows.get(c.windowId!);
    return !!w && m.isLive(w, t) && w.owner === c.owner && w.state === c.state &&
      w.resources.includes(c.conflictsWith) && (selfOk || w.owner !== me);
  };
  const lease = m.lease(a.leaseId, t);
  const w = m.windows.get(a.windowId);
  switch (`${rec.op}:${r.outcome ?? (r as Guard).reason ?? "safe"}`) {
    case "acquire:conflict":
      return realConflict(r.conflict as Conflict, (r.conflict as Conflict).kind === "lease") &&
        a.resources.includes((r.conflict as Conflict).resource);
    case "renew:missing":
    case "release:missing":
      return !lease;
    case "renew:not_owner":
    case "release:not_owner":
      return !!lease && lease.owner !== me && lease.owner === r.owner;
    case "renew:conflict": {
      const c = r.conflict as Conflict;
      return !!lease && lease.owner === me && lease.resources.includes(c.resource) &&
        c.state === "pending" && realConflict(c, false);
    }
    case "request:conflict":
      return realConflict(r.conflict as Conflict, true) &&
        a.resources.includes((r.conflict as Conflict).resource);
    case "ack:missing":
    case "activate:missing":
    case "wrelease:missing":
    case "cancel:missing":
      return !w;
    case "ack:state":
    case "activate:state":
    case "wrelease:state":
    case "cancel:state":
      return !!w && w.state === r.state && (rec.op !== "activate" || w.owner === me);
    case "ack:expired":
    case "activate:expired":
      return !!w && w.state === "pending" && t >= w.deadline &&
        (rec.op === "ack" || w.owner === me);
    case "ack:not_required":
      return !!w && w.state === "pending" && t < w.deadline && !w.required.includes(me);
    case "ack:acknowledged": // already acknowledged: no event
      return !!w && w.state === "pending" && t < w.deadline && w.acked.has(me);
    case "activate:not_owner":
    case "wrelease:not_owner":
    case "cancel:not_owner":
      return !!w && w.owner !== me && w.owner === r.owner;
    case "activate:acks": {
      const out = (r.outstanding as string[]).slice().sort();
      return !!w && w.owner === me && w.state === "pending" && t < w.deadline &&
        r.checkedAt === t &&
        JSON.stringify(m.outstanding(w, t).sort()) === JSON.stringify(out);
    }
    case "activate:conflict":
      return !!w && w.owner === me && w.state === "pending" && t < w.deadline &&
        m.outstanding(w, t).length === 0 &&
        realConflict(r.conflict as Conflict, false) &&
        w.resources.includes((r.conflict as Conflict).resource);
    case "wrelease:released":
      return !!w && w.owner === me && w.state === "released";
    case "cancel:cancelled":
      return !!w && w.owner === me && w.state === "cancelled";
  }
  if (rec.op !== "guard") throw new Error(`unexpected answer ${rec.op} ${JSON.stringify(r)}`);
  const g = r as unknown as Guard & { checkedAt: number };
  if (g.checkedAt !== t) return false;
  const others = a.resources.some((x) =>
    m.liveLeases(t).some((l) => l.owner !== me && l.resources.some((h) => clash(h, x))) ||
    m.liveWindows(t).some((v) => v.owner !== me && v.resources.some((h) => clash(h, x)))
  );
  if (g.reason === "conflict") {
    return realConflict(g.conflict!, false) && a.resources.includes(g.conflict!.resource);
  }
  if (others) return false;
  const named = a.leaseId === undefined ? undefined : m.lease(a.leaseId, t);
  if (g.reason === "lease_missing") return a.leaseId !== undefined && !named;
  if (a.leaseId !== undefined && !named) return false;
  if (g.reason === "not_owner") return !!named && named.owner !== me && named.owner === g.owner;
  if (named && named.owner !== me) return false;
  const held = a.resources.filter((x) =>
    named
      ? named.resources.some((h) => within(h, x))
      : m.liveLeases(t).some((l) => l.owner === me && l.resources.some((h) => within(h, x))) ||
        m.liveWindows(t).some((v) =>
          v.owner === me && v.state === "active" && v.resources.some((h) => within(h, x))
        )
  ).sort();
  if (g.reason === "not_held") return !!a.requireHeld && !held.includes(g.resource!);
  return g.safe && JSON.stringify(held) === JSON.stringify(g.held!.slice().sort()) &&
    (!a.requireHeld || held.length === a.resources.length);
}

/** The audit event each successful operation writes. */
export const EVENT_OF: Record<string, string> = {
  acquire: "LEASE_ACQUIRED",
  renew: "LEASE_RENEWED",
  release: "LEASE_RELEASED",
  request: "WINDOW_REQUESTED",
  ack: "WINDOW_ACKNOWLEDGED",
  activate: "WINDOW_ACTIVATED",
  wrelease: "WINDOW_RELEASED",
  cancel: "WINDOW_CANCELLED",
};

/** What {@linkcode verifyRun} found. */
export interface RunVerdict {
  /** Every rule or answer the replay could not justify (empty: all good). */
  problems: string[];
  /** How many answers of each `op:outcome` were checked. */
  stats: Record<string, number>;
}

/**
 * Checks a run: every successful answer is its event in the stream (same
 * type, agent, record, a timestamp within the call) and no event is
 * unaccounted for; the replay of the stream through {@linkcode Model} finds
 * every change legal and the invariants kept; every other answer is right
 * in the model at some instant between its server times.
 *
 * @param events the room's whole audit stream, in order
 * @param records every worker's operations and answers
 */
export function verifyRun(events: RoomEvent[], records: OpRecord[]): RunVerdict {
  const problems: string[] = [];
  const byId = new Map(events.map((e) => [e.id, e]));

  // 2. successes ↔ events
  const open: OpRecord[] = [];
  let expected = 0;
  for (const rec of records) {
    const r = rec.result as {
      auditId?: string;
      lease?: unknown;
      window?: { required: string[]; state: string };
    };
    if (!r.auditId) {
      open.push(rec);
      continue;
    }
    const e = byId.get(r.auditId);
    if (!e) {
      problems.push(`${rec.op}: acknowledged event ${r.auditId} is not in the stream`);
      continue;
    }
    if (e.type !== EVENT_OF[rec.op]) problems.push(`${e.id}: ${e.type} for ${rec.op}`);
    if (e.agent_id !== rec.agent) problems.push(`${e.id}: written by ${e.agent_id}`);
    if (e.timestamp < rec.before || e.timestamp > rec.after) {
      problems.push(`${e.id} is not within its call`);
    }
    const payload = e.payload as Record<string, unknown>;
    if (!isDeepStrictEqual(payload.lease ?? payload.window, r.lease ?? r.window)) {
      problems.push(`${e.id}: the record differs from the answer`);
    }
    expected += 1;
    if (rec.op === "request") {
      expected += r.window!.state === "active" ? 1 : r.window!.required.length;
    }
  }
  if (events.length !== expected) {
    problems.push(`${events.length} events, but the answers account for ${expected}`);
  }

  // 1. and 3. replay the stream; place each other answer between its server times
  const model = new Model();
  open.sort((x, y) => x.before - y.before);
  let pending: OpRecord[] = [];
  // an answer that carries its server time is checked at exactly that instant
  const instants = (rec: OpRecord, lo: number, hi: number) => {
    const r = rec.result as { checkedAt?: number; conflict?: { checkedAt: number } };
    const at = r.checkedAt ?? r.conflict?.checkedAt;
    if (at === undefined) return model.instants(lo, hi);
    return at >= lo && at <= hi ? [at] : [];
  };
  let next = 0;
  const times = [-Infinity, ...events.map((e) => e.timestamp), Infinity];
  const stats: Record<string, number> = {};
  for (let k = 0; k <= events.length; k++) {
    if (k > 0) {
      problems.push(...model.apply(events[k - 1]!));
      problems.push(...model.invariants(times[k]!));
    }
    const [from, to] = [times[k]!, times[k + 1]!];
    while (next < open.length && open[next]!.before <= to) pending.push(open[next++]!);
    pending = pending.filter((rec) => {
      const lo = Math.max(rec.before, from);
      const hi = Math.min(rec.after, to);
      if (lo <= hi && instants(rec, lo, hi).some((t) => justified(model, t, rec))) {
        const r = rec.result as { outcome?: string; reason?: string };
        const key = `${rec.op}:${r.outcome ?? r.reason ?? "safe"}`;
        stats[key] = (stats[key] ?? 0) + 1;
        return false;
      }
      if (rec.after < to) {
        problems.push(
          `unjustified ${rec.agent} ${rec.op} ${JSON.stringify(rec.args)} → ${
            JSON.stringify(rec.result)
          }`,
        );
        return false;
      }
      return true;
    });
  }
  for (const rec of pending) {
    problems.push(`never placed: ${rec.op} ${JSON.stringify(rec.result)}`);
  }
  return { problems, stats };
}
