/**
 * The Lua scripts of agentroom, loaded from `src/lua/` as text so that a
 * compiled binary embeds them. Each `.lua` file documents its KEYS and ARGV.
 *
 * @module
 */
import type { LuaScript } from "./redis/port.ts";
import publishSource from "./lua/publish.lua" with { type: "text" };
import heartbeatSource from "./lua/heartbeat.lua" with { type: "text" };
import rosterSource from "./lua/roster.lua" with { type: "text" };

/** Appends an event and re-arms the stream TTL (see `lua/publish.lua`). */
export const PUBLISH: LuaScript = { name: "publish", source: publishSource };
/** Writes or refreshes presence (see `lua/heartbeat.lua`). */
export const HEARTBEAT: LuaScript = { name: "heartbeat", source: heartbeatSource };
/** Prunes and lists the presence index (see `lua/roster.lua`). */
export const ROSTER: LuaScript = { name: "roster", source: rosterSource };
