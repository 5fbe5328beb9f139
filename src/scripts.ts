/**
 * The Lua scripts of agentroom, loaded from `src/lua/` as text so that a
 * compiled binary embeds them. Each `.lua` file documents its KEYS and ARGV.
 *
 * @module
 */
import type { LuaScript } from "./redis/port.ts";
import lib from "./lua/_lib.lua" with { type: "text" };
import publishSource from "./lua/publish.lua" with { type: "text" };
import heartbeatSource from "./lua/heartbeat.lua" with { type: "text" };
import rosterSource from "./lua/roster.lua" with { type: "text" };
import claimSource from "./lua/claim.lua" with { type: "text" };
import completeSource from "./lua/complete.lua" with { type: "text" };
import releaseSource from "./lua/release.lua" with { type: "text" };
import indexTasksSource from "./lua/index_tasks.lua" with { type: "text" };
import liveClaimsSource from "./lua/live_claims.lua" with { type: "text" };
import advanceCursorSource from "./lua/advance_cursor.lua" with { type: "text" };
import endAskSource from "./lua/end_ask.lua" with { type: "text" };
import welcomeSource from "./lua/welcome.lua" with { type: "text" };
import coord from "./lua/_coord.lua" with { type: "text" };
import leaseAcquireSource from "./lua/lease_acquire.lua" with { type: "text" };
import leaseRenewSource from "./lua/lease_renew.lua" with { type: "text" };
import leaseReleaseSource from "./lua/lease_release.lua" with { type: "text" };
import guardSource from "./lua/guard.lua" with { type: "text" };
import windowRequestSource from "./lua/window_request.lua" with { type: "text" };
import windowAckSource from "./lua/window_ack.lua" with { type: "text" };
import windowActivateSource from "./lua/window_activate.lua" with { type: "text" };
import windowFinishSource from "./lua/window_finish.lua" with { type: "text" };
import workSetSource from "./lua/work_set.lua" with { type: "text" };
import absence from "./lua/_absence.lua" with { type: "text" };
import leaseBreakSource from "./lua/lease_break.lua" with { type: "text" };
import taskStealSource from "./lua/task_steal.lua" with { type: "text" };
import presenceClearSource from "./lua/presence_clear.lua" with { type: "text" };
import lapse from "./lua/_lapse.lua" with { type: "text" };
import sweepLapsesSource from "./lua/sweep_lapses.lua" with { type: "text" };
import coordSnapshotSource from "./lua/coord_snapshot.lua" with { type: "text" };
import runtimeFailSource from "./lua/runtime_fail.lua" with { type: "text" };
import dlqRetrySource from "./lua/dlq_retry.lua" with { type: "text" };
import pruneConsumerSource from "./lua/prune_consumer.lua" with { type: "text" };

/** Appends an event and re-arms the stream TTL (see `lua/publish.lua`). */
export const PUBLISH: LuaScript = { name: "publish", source: lib + publishSource };
/** Writes or refreshes presence (see `lua/heartbeat.lua`). */
export const HEARTBEAT: LuaScript = { name: "heartbeat", source: heartbeatSource };
/** Prunes and lists the presence index (see `lua/roster.lua`). */
export const ROSTER: LuaScript = { name: "roster", source: rosterSource };
/** Claims a task (see `lua/claim.lua`). */
export const CLAIM: LuaScript = { name: "claim", source: lib + lapse + claimSource };
/** Completes a task (see `lua/complete.lua`). */
export const COMPLETE: LuaScript = { name: "complete", source: lib + completeSource };
/** Releases a claim (see `lua/release.lua`). */
export const RELEASE: LuaScript = { name: "release", source: lib + releaseSource };
/** Backfills the open-task index (see `lua/index_tasks.lua`). */
export const INDEX_TASKS: LuaScript = { name: "index_tasks", source: indexTasksSource };
/** Lists live claims (see `lua/live_claims.lua`). */
export const LIVE_CLAIMS: LuaScript = { name: "live_claims", source: lib + liveClaimsSource };
/** Moves a read cursor forward only (see `lua/advance_cursor.lua`). */
export const ADVANCE_CURSOR: LuaScript = { name: "advance_cursor", source: advanceCursorSource };
/** Releases a pending-ask lease if still ours (see `lua/end_ask.lua`). */
export const END_ASK: LuaScript = { name: "end_ask", source: endAskSource };
/** Pins the lobby's WELCOME event (see `lua/welcome.lua`). */
export const WELCOME: LuaScript = { name: "welcome", source: lib + welcomeSource };

// Coordination scripts: _lib.lua, then _coord.lua (overlap rule, indexes), then the script.
const withCoord = (source: string) => lib + coord + source;
/** Acquires a resource lease (see `lua/lease_acquire.lua`). */
export const LEASE_ACQUIRE: LuaScript = {
  name: "lease_acquire",
  source: withCoord(leaseAcquireSource),
};
/** Renews a resource lease (see `lua/lease_renew.lua`). */
export const LEASE_RENEW: LuaScript = { name: "lease_renew", source: withCoord(leaseRenewSource) };
/** Releases a resource lease (see `lua/lease_release.lua`). */
export const LEASE_RELEASE: LuaScript = {
  name: "lease_release",
  source: withCoord(leaseReleaseSource),
};
/** Looks up what overlaps a guard's resources (see `lua/guard.lua`). */
export const GUARD: LuaScript = { name: "guard", source: withCoord(guardSource) };
/** Requests a quiet window (see `lua/window_request.lua`). */
export const WINDOW_REQUEST: LuaScript = {
  name: "window_request",
  source: withCoord(windowRequestSource),
};
/** Acknowledges a quiet window (see `lua/window_ack.lua`). */
export const WINDOW_ACK: LuaScript = { name: "window_ack", source: withCoord(windowAckSource) };
/** Activates a quiet window (see `lua/window_activate.lua`). */
export const WINDOW_ACTIVATE: LuaScript = {
  name: "window_activate",
  source: withCoord(windowActivateSource),
};
/** Releases or cancels a quiet window (see `lua/window_finish.lua`). */
export const WINDOW_FINISH: LuaScript = {
  name: "window_finish",
  source: withCoord(windowFinishSource),
};
/** Sets an agent's work status (see `lua/work_set.lua`). */
export const WORK_SET: LuaScript = { name: "work_set", source: lib + workSetSource };
/** Reads live leases, windows and work (see `lua/coord_snapshot.lua`). */
export const COORD_SNAPSHOT: LuaScript = {
  name: "coord_snapshot",
  source: withCoord(coordSnapshotSource),
};

/** Removes presence and records when it ended (see `lua/presence_clear.lua`). */
export const PRESENCE_CLEAR: LuaScript = { name: "presence_clear", source: presenceClearSource };
/** Breaks the lease of an absent owner (see `lua/lease_break.lua`). */
export const LEASE_BREAK: LuaScript = {
  name: "lease_break",
  source: lib + coord + absence + leaseBreakSource,
};
/** Takes over the claim of an absent holder (see `lua/task_steal.lua`). */
export const TASK_STEAL: LuaScript = {
  name: "task_steal",
  source: lib + absence + taskStealSource,
};
/** Writes the notices of lapsed leases, windows and claims (see `lua/sweep_lapses.lua`). */
export const SWEEP_LAPSES: LuaScript = {
  name: "sweep_lapses",
  source: lib + coord + lapse + sweepLapsesSource,
};
/** Records a worker's failed attempt, dead-lettering at the cap (see `lua/runtime_fail.lua`). */
export const RUNTIME_FAIL: LuaScript = { name: "runtime_fail", source: lib + runtimeFailSource };
/** Puts a dead-lettered event back into the room (see `lua/dlq_retry.lua`). */
export const DLQ_RETRY: LuaScript = { name: "dlq_retry", source: lib + dlqRetrySource };
/** Removes an idle consumer that holds nothing pending (see `lua/prune_consumer.lua`). */
export const PRUNE_CONSUMER: LuaScript = { name: "prune_consumer", source: pruneConsumerSource };
