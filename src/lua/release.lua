--[[
release — the owner gives a claim back early; writes TASK_RELEASED.

KEYS[1]  the room stream        KEYS[2]  types-seen hash
KEYS[3]  claims index           KEYS[4]  this task's owner key
ARGV[1]  task id   ARGV[2]  agent id   ARGV[3]  stream idle TTL ms   ARGV[4]  stream MAXLEN
ARGV[5]  handle    ARGV[6]  session id

Returns { "ok", audit id } | { "not_held" } | { "not_owner", owner }.
]]
if not stream_type_ok(KEYS[1]) then return redis.error_reply('WRONGTYPE room stream is not a stream') end
if not (type_ok(KEYS[2], 'hash') and type_ok(KEYS[3], 'zset')) then
  return redis.error_reply('WRONGTYPE a room index has the wrong type')
end
local holder = redis.call('GET', KEYS[4])
if not holder then return { 'not_held' } end
if holder ~= ARGV[2] then return { 'not_owner', holder } end
redis.call('DEL', KEYS[4])
redis.call('ZREM', KEYS[3], ARGV[1])
local payload = cjson.encode({ task_id = ARGV[1] })
local id = audit(KEYS[1], KEYS[2], { 'type', 'TASK_RELEASED', 'agent_id', ARGV[2], 'agent_handle', ARGV[5],
  'session_id', ARGV[6], 'to', '', 'reply_to', ARGV[1], 'payload', payload }, ARGV[3], ARGV[4])
return { 'ok', id }
