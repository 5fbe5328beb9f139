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

/** Appends an event and re-arms the stream TTL (see `lua/publish.lua`). */
export const PUBLISH: LuaScript = { name: "publish", source: lib + publishSource };
/** Writes or refreshes presence (see `lua/heartbeat.lua`). */
export const HEARTBEAT: LuaScript = { name: "heartbeat", source: heartbeatSource };
/** Prunes and lists the presence index (see `lua/roster.lua`). */
export const ROSTER: LuaScript = { name: "roster", source: rosterSource };
/** Claims a task (see `lua/claim.lua`). */
export const CLAIM: LuaScript = { name: "claim", source: lib + claimSource };
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
