--[[
lease_renew — the owner extends a live lease to now + TTL (its resources and
created_at stay). Refused while a pending quiet window of another agent
overlaps the lease: the lease holder is asked to wrap up and release, not to
stay. Writes LEASE_RENEWED in the same step.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    lease id     ARGV[7]  TTL ms

Returns one of
  { "ok", lease JSON, audit id }
  { "missing" }                                      no live lease with that id
  { "not_owner", owner }
  { "window", now ms, lease resource, window resource, window JSON }
]]
if not (core_types_ok() and coord_types_ok()) then return wrong_type() end
local stamp = now_text()
local now = tonumber(stamp)
local lease = live_lease(ARGV[6], now)
if not lease then return { 'missing' } end
if lease.owner ~= ARGV[1] then return { 'not_owner', lease.owner } end
for _, w in ipairs(live_windows(now)) do
  if w.state == 'pending' and not same_session(w, lease.owner, lease.session) then
    for _, r in ipairs(lease.resources) do
      local held = first_overlap(w.resources, r)
      if held then return { 'window', now, r, held, window_json(w) } end
    end
  end
end
prune_leases(now)
lease.expires_at = now + tonumber(ARGV[7])
local json = lease_json(lease)
redis.call('HSET', L.hash, lease.id, json)
redis.call('ZADD', L.exp, lease.expires_at, lease.id)
rearm({ L.hash, L.exp, L.res }, L.exp, LAPSE_RETENTION)
local audit_id = coord_audit('LEASE_RENEWED', '', '', '{"schema_version":1,"lease":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
