--[[
lease_acquire — take a lease on one or more resources, all or none; of
several overlapping requests exactly one wins. Refused when a requested
resource overlaps a live lease or a live quiet window of another session
(what the caller's session holds, under any handle, is never a conflict for
it); a refusal writes nothing. The lease records the session (ARGV[3]). Writes LEASE_ACQUIRED in the same step, on Redis server time.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor (the owner) id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    lease id (fresh, 32 hex)     ARGV[7]  TTL ms     ARGV[8]  purpose
ARGV[9…]   the resources, normalised

Returns one of
  { "ok", lease JSON, audit id }
  { "lease", now ms, requested, held, lease JSON }    another session's live lease overlaps
  { "window", now ms, requested, held, window JSON }  another session's live window overlaps
  { "exists" }                                        the id is taken
]]
if not (core_types_ok() and coord_types_ok()) then return wrong_type() end
local stamp = now_text()
local now = tonumber(stamp)
local owner, id = ARGV[1], ARGV[6]
if redis.call('HEXISTS', L.hash, id) == 1 then return { 'exists' } end
local resources = {}
for i = 9, #ARGV do resources[#resources + 1] = ARGV[i] end
local windows = live_windows(now)
for _, r in ipairs(resources) do
  local hit
  each_overlap(r, now, function(held, lease, json)
    if same_session(lease, owner, ARGV[3]) then return false end
    hit = { held, lease, json }
    return true
  end)
  if hit then return { 'lease', now, r, hit[1], hit[3] } end
  for _, w in ipairs(windows) do
    local held = not same_session(w, owner, ARGV[3]) and first_overlap(w.resources, r)
    if held then return { 'window', now, r, held, window_json(w) } end
  end
end
prune_leases(now)
local json = lease_json({ id = id, owner = owner, session = ARGV[3], purpose = ARGV[8], resources = resources,
  created_at = now, expires_at = now + tonumber(ARGV[7]) })
redis.call('HSET', L.hash, id, json)
redis.call('ZADD', L.exp, now + tonumber(ARGV[7]), id)
for _, r in ipairs(resources) do redis.call('ZADD', L.res, 0, r .. '\0' .. id) end
rearm({ L.hash, L.exp, L.res }, L.exp, LAPSE_RETENTION)
local audit_id = coord_audit('LEASE_ACQUIRED', '', '', '{"schema_version":1,"lease":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
