--[[
window_ack — a required agent acknowledges a pending quiet window before its
ack deadline; writes WINDOW_ACKNOWLEDGED in the same step. Acknowledging twice
is fine and writes nothing the second time.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor (acknowledger) id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    window id

Returns one of
  { "ok", window JSON, audit id or "" (already acknowledged) }
  { "missing" } | { "state", state } | { "expired" } | { "not_required", owner }
]]
if not (core_types_ok() and coord_types_ok()) then return wrong_type() end
local stamp = now_text()
local now = tonumber(stamp)
local w, json = window_record(ARGV[6])
if not w then return { 'missing' } end
if w.state ~= 'pending' then return { 'state', w.state } end
if now >= w.ack_deadline then return { 'expired' } end
local required = false
for _, agent in ipairs(w.required) do
  if agent == ARGV[1] then required = true end
end
if not required then return { 'not_required', w.owner } end
for _, agent in ipairs(w.acknowledged) do
  if agent == ARGV[1] then return { 'ok', json, '' } end
end
table.insert(w.acknowledged, ARGV[1])
table.sort(w.acknowledged)
json = window_json(w)
redis.call('HSET', W.hash, w.id, json)
local audit_id = coord_audit('WINDOW_ACKNOWLEDGED', '', '', '{"schema_version":1,"window":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
