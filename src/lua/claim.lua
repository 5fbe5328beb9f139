--[[
claim — take a task as a lease: exactly one winner. Refuses unknown ids,
events that are not tasks, done tasks, tasks held by someone else, and (unless
forced) tasks whose prerequisite type has not appeared in the room. The owner
re-claiming its own task renews the lease; so does another handle of the
owner's session (ARGV[8]), which becomes the owner: what a session holds is
never a conflict for it. Writes TASK_CLAIMED in the same step.

KEYS[1…5] the room core keys (see _lib.lua): stream, types-seen, catalog,
          open-task index, done hash
KEYS[6]  claims index (task id → expiry ms)
KEYS[7]  this task's owner key
KEYS[8]  claim-owners hash (task id → holder, kept until a lapse is noticed)
KEYS[9]  the inbox of the previous holder ARGV[9]   KEYS[10] inbox recipients index
ARGV[1]  task id       ARGV[2]  owner agent id    ARGV[3]  lease TTL in ms
ARGV[4]  "1" to skip the prerequisite gate         ARGV[5]  stream idle TTL ms
ARGV[6]  stream MAXLEN ("0" = none)                ARGV[7]  owner handle
ARGV[8]  owner session id
ARGV[9]  the previous holder the caller read from KEYS[8] ("" = none)
ARGV[10] inbox MAXLEN       ARGV[11] inbox TTL ms

A claim of a task whose previous claim lapsed unnoticed first writes that
CLAIM_LAPSED notice (to the previous holder and into its inbox): every lapse
yields exactly one notice, whoever observes it first.

Returns one of
  { "ok", expiry ms, audit id, "claimed" | "renewed" }
  { "unknown" }                     no event with that id
  { "not_task", type }              its type is not in the catalog
  { "done" }                        already completed
  { "held", owner, ttl left ms }    someone else holds the lease
  { "prereq", prerequisite type }   gate unmet
  { "retry", previous holder }      KEYS[9] is not the previous holder's inbox: read again
]]
if not (core_types_ok() and type_ok(KEYS[6], 'zset') and type_ok(KEYS[7], 'string')
    and type_ok(KEYS[8], 'hash') and type_ok(KEYS[9], 'stream') and type_ok(KEYS[10], 'zset')) then
  return wrong_type()
end
local task_type = event_type(ARGV[1])
if not task_type then return { 'unknown' } end
local def = redis.call('HGET', KEYS[3], task_type)
if not def then return { 'not_task', task_type } end
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 then return { 'done' } end
local holder = redis.call('GET', KEYS[7])
local outcome = 'claimed'
if holder and holder ~= ARGV[2] and not id_of_session(holder, ARGV[8]) then
  return { 'held', holder, redis.call('PTTL', KEYS[7]) }
elseif holder then
  outcome = 'renewed'
end
if ARGV[4] ~= '1' then
  local prereq = cjson.decode(def)['prereq']
  if type(prereq) == 'string' and prereq ~= '' and redis.call('HEXISTS', KEYS[2], prereq) == 0 then
    return { 'prereq', prereq }
  end
end
-- One clock reading for the lease deadline, the claims index and the audit
-- timestamp, so the next claim's TASK_CLAIMED is always >= this one's + TTL.
local stamp = now_text()
if not holder then
  local previous = redis.call('HGET', KEYS[8], ARGV[1])
  if previous then
    if previous ~= ARGV[9] then return { 'retry', previous } end
    claim_lapse_notice(ARGV[1], previous, KEYS[9], KEYS[10], stamp, ARGV[5], ARGV[6], ARGV[10], ARGV[11])
  end
end
local expiry = tonumber(stamp) + tonumber(ARGV[3])
redis.call('SET', KEYS[7], ARGV[2], 'PXAT', expiry)
redis.call('ZADD', KEYS[6], expiry, ARGV[1])
redis.call('HSET', KEYS[8], ARGV[1], ARGV[2])
local payload = cjson.encode({ task_id = ARGV[1], task_type = task_type, ttl_ms = tonumber(ARGV[3]),
  forced = ARGV[4] == '1', renewed = outcome == 'renewed' })
local id = audit({ 'type', 'TASK_CLAIMED', 'agent_id', ARGV[2], 'agent_handle', ARGV[7],
  'session_id', ARGV[8], 'to', '', 'reply_to', ARGV[1], 'payload', payload }, ARGV[5], ARGV[6], stamp)
return { 'ok', expiry, id, outcome }
