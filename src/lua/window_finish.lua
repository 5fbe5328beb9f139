--[[
window_finish — the owner ends a quiet window: "release" an active one
(→ released, WINDOW_RELEASED) or "cancel" a pending one (→ cancelled,
WINDOW_CANCELLED), also after it lapsed. Ending a window already in that
state is fine and writes nothing. The record is kept for the retention
period so status can show how it ended.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor (owner) id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    window id      ARGV[7]  "release" | "cancel"
ARGV[8]    record retention ms

Returns one of
  { "ok", window JSON, audit id or "" (already ended that way) }
  { "missing" } | { "not_owner", owner } | { "state", state }
]]
local refused, stamp, now, w, json = owned_window()
if refused then return refused end
local from, to, event = 'active', 'released', 'WINDOW_RELEASED'
if ARGV[7] == 'cancel' then from, to, event = 'pending', 'cancelled', 'WINDOW_CANCELLED' end
if w.state == to then return { 'ok', json, '' } end
if w.state ~= from then return { 'state', w.state } end
w.state = to
if w.expires_at > now then w.expires_at = now end
json = window_json(w)
prune_windows(now)
redis.call('HSET', W.hash, w.id, json)
redis.call('ZREM', W.live, w.id)
redis.call('ZADD', W.keep, now + tonumber(ARGV[8]), w.id)
rearm({ W.hash, W.live, W.keep }, W.keep)
local audit_id = coord_audit(event, '', '', '{"schema_version":1,"window":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
