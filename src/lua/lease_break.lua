--[[
lease_break — another agent ends a live lease whose owner has no live presence
(neither the owner nor any agent of its session) and has been absent longer
than the grace period, or at once with "now" (still audited). Writes
LEASE_BROKEN, addressed to the former owner and copied into its inbox, in the
same step. Of several concurrent breakers exactly one succeeds.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
KEYS[12]   presence index (zset)        KEYS[13] presence-ends hash
KEYS[14]   the former owner's inbox     KEYS[15] inbox recipients index
ARGV[1…5]  actor id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    lease id                     ARGV[7]  the owner the caller read (the inbox is theirs)
ARGV[8]    grace period ms              ARGV[9]  "1" = skip the grace period
ARGV[10]   reason (one line)            ARGV[11] inbox MAXLEN   ARGV[12] inbox TTL ms

Returns one of
  { "ok", lease JSON, audit id, absent ms (-1 = never seen) }
  { "missing" }                       no live lease with that id
  { "changed", owner }                the owner is not ARGV[7] (read again)
  { "own" }                           the caller's session holds it: release it instead
  { "present", owner }                the owner (or its session) is live
  { "grace", owner, absent ms, grace ms }   absent for less than the grace period
]]
if not (core_types_ok() and coord_types_ok() and type_ok(KEYS[12], 'zset')
    and type_ok(KEYS[13], 'hash') and type_ok(KEYS[14], 'stream') and type_ok(KEYS[15], 'zset')) then
  return wrong_type()
end
local stamp = now_text()
local now = tonumber(stamp)
local lease, json = live_lease(ARGV[6], now)
if not lease then return { 'missing' } end
if lease.owner ~= ARGV[7] then return { 'changed', lease.owner } end
if same_session(lease, ARGV[1], ARGV[3]) then return { 'own' } end
local present, since = holder_absence(KEYS[12], KEYS[13], lease.owner, lease.session, now)
if present then return { 'present', lease.owner } end
local absent = -1
if since ~= nil then absent = now - since end
local grace = tonumber(ARGV[8])
if ARGV[9] ~= '1' then
  -- never seen: measured from when the lease was taken
  local measured = absent
  if measured < 0 then measured = now - tonumber(lease.created_at) end
  if measured < grace then return { 'grace', lease.owner, measured, grace } end
end
for _, r in ipairs(lease.resources) do redis.call('ZREM', L.res, r .. '\0' .. lease.id) end
redis.call('HDEL', L.hash, lease.id)
redis.call('ZREM', L.exp, lease.id)
prune_leases(now)
rearm({ L.hash, L.exp, L.res }, L.exp, LAPSE_RETENTION)
local payload = '{"schema_version":1,"lease":' .. json .. ',"former_owner":' .. cjson.encode(lease.owner)
  .. ',"reason":' .. cjson.encode(ARGV[10]) .. ',"forced":' .. tostring(ARGV[9] == '1')
  .. ',"absent_ms":' .. string.format('%d', absent) .. '}'
local fields = { 'type', 'LEASE_BROKEN', 'agent_id', ARGV[1], 'agent_handle', ARGV[2],
  'session_id', ARGV[3], 'to', lease.owner, 'reply_to', '', 'payload', payload }
local audit_id = audit(fields, ARGV[4], ARGV[5], stamp)
deliver(KEYS[14], KEYS[15], lease.owner, audit_id, fields, stamp, ARGV[11], ARGV[12])
return { 'ok', json, audit_id, absent }
