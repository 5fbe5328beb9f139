--[[
lease_release — the owner gives a live lease back; writes LEASE_RELEASED in
the same step. A lease that is missing or already lapsed is reported as such
and nothing is written (callers treat it as released).

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    lease id

Returns { "ok", lease JSON, audit id } | { "missing" } | { "not_owner", owner }.
]]
if not (core_types_ok() and coord_types_ok()) then return wrong_type() end
local stamp = now_text()
local now = tonumber(stamp)
local lease, json = live_lease(ARGV[6], now)
if not lease then return { 'missing' } end
if lease.owner ~= ARGV[1] then return { 'not_owner', lease.owner } end
for _, r in ipairs(lease.resources) do redis.call('ZREM', L.res, r .. '\0' .. lease.id) end
redis.call('HDEL', L.hash, lease.id)
redis.call('ZREM', L.exp, lease.id)
prune_leases(now)
rearm({ L.hash, L.exp, L.res }, L.exp, LAPSE_RETENTION)
local audit_id = coord_audit('LEASE_RELEASED', '', '', '{"schema_version":1,"lease":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
