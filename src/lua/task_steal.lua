--[[
task_steal — take over a claimed task whose holder has no live presence and
has been absent longer than the grace period (or at once with "now", still
audited). Writes TASK_STOLEN, addressed to the former holder and copied into
its inbox, in the same step; the caller holds the claim for ARGV[3] ms. Of
several concurrent stealers exactly one succeeds.

KEYS[1…5] the room core keys (see _lib.lua)
KEYS[6]  claims index            KEYS[7]  this task's owner key
KEYS[8]  claim-owners hash
KEYS[9]  presence index (zset)   KEYS[10] presence-ends hash
KEYS[11] the former holder's inbox   KEYS[12] inbox recipients index
ARGV[1]  task id       ARGV[2]  actor agent id    ARGV[3]  claim TTL ms
ARGV[4]  stream idle TTL ms       ARGV[5]  stream MAXLEN       ARGV[6]  actor handle
ARGV[7]  actor session id         ARGV[8]  the holder the caller read (the inbox is theirs)
ARGV[9]  grace period ms          ARGV[10] "1" = skip the grace period
ARGV[11] reason ("" = none)       ARGV[12] inbox MAXLEN       ARGV[13] inbox TTL ms

Returns one of
  { "ok", expiry ms, audit id, absent ms (-1 = never seen) }
  { "not_held" }                  nobody holds it: claim it instead
  { "done" }                      already completed
  { "changed", holder }           the holder is not ARGV[8] (read again)
  { "own" }                       the caller's session holds it
  { "present", holder }           the holder is live
  { "grace", holder, absent ms, grace ms }
]]
if not (core_types_ok() and type_ok(KEYS[6], 'zset') and type_ok(KEYS[7], 'string')
    and type_ok(KEYS[8], 'hash') and type_ok(KEYS[9], 'zset') and type_ok(KEYS[10], 'hash')
    and type_ok(KEYS[11], 'stream') and type_ok(KEYS[12], 'zset')) then
  return wrong_type()
end
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 then return { 'done' } end
local holder = redis.call('GET', KEYS[7])
if not holder then return { 'not_held' } end
if holder ~= ARGV[8] then return { 'changed', holder } end
if holder == ARGV[2] or id_of_session(holder, ARGV[7]) then return { 'own' } end
local stamp = now_text()
local now = tonumber(stamp)
local present, since = holder_absence(KEYS[9], KEYS[10], holder, nil, now)
if present then return { 'present', holder } end
local absent = -1
if since ~= nil then absent = now - since end
if ARGV[10] ~= '1' then
  local grace = tonumber(ARGV[9])
  -- a holder never seen (no presence was ever written under it) counts as absent long enough
  if absent >= 0 and absent < grace then return { 'grace', holder, absent, grace } end
end
local expiry = now + tonumber(ARGV[3])
redis.call('SET', KEYS[7], ARGV[2], 'PXAT', expiry)
redis.call('ZADD', KEYS[6], expiry, ARGV[1])
redis.call('HSET', KEYS[8], ARGV[1], ARGV[2])
local task_type = event_type(ARGV[1]) or ''
local payload = cjson.encode({ task_id = ARGV[1], task_type = task_type, former_owner = holder,
  reason = ARGV[11], forced = ARGV[10] == '1', absent_ms = absent, ttl_ms = tonumber(ARGV[3]) })
local fields = { 'type', 'TASK_STOLEN', 'agent_id', ARGV[2], 'agent_handle', ARGV[6],
  'session_id', ARGV[7], 'to', holder, 'reply_to', ARGV[1], 'payload', payload }
local id = audit(fields, ARGV[4], ARGV[5], stamp)
deliver(KEYS[11], KEYS[12], holder, id, fields, stamp, ARGV[12], ARGV[13])
return { 'ok', expiry, id, absent }
