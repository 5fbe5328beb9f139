--[[
release — the owner gives a claim back early; writes TASK_RELEASED.

KEYS[1…5] the room core keys (see _lib.lua): stream, types-seen, catalog,
          open-task index, done hash
KEYS[6]  claims index             KEYS[7]  this task's owner key
KEYS[8]  claim-owners hash
ARGV[1]  task id   ARGV[2]  agent id   ARGV[3]  stream idle TTL ms   ARGV[4]  stream MAXLEN
ARGV[5]  handle    ARGV[6]  session id

Returns { "ok", audit id } | { "not_held" } | { "not_owner", owner }.
]]
if not (core_types_ok() and type_ok(KEYS[6], 'zset') and type_ok(KEYS[7], 'string')
    and type_ok(KEYS[8], 'hash')) then
  return wrong_type()
end
local holder = redis.call('GET', KEYS[7])
if not holder then return { 'not_held' } end
if holder ~= ARGV[2] then return { 'not_owner', holder } end
redis.call('DEL', KEYS[7])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
local payload = cjson.encode({ task_id = ARGV[1] })
local id = audit({ 'type', 'TASK_RELEASED', 'agent_id', ARGV[2], 'agent_handle', ARGV[5],
  'session_id', ARGV[6], 'to', '', 'reply_to', ARGV[1], 'payload', payload }, ARGV[3], ARGV[4])
return { 'ok', id }
