--[[
work_set — record what an agent is doing in one scope (started, waiting,
blocked, handoff, completed, failed) and write WORK_STATUS in the same step.
The current status of each (agent, scope) is kept in one hash next to an
expiry index; completed and failed remove it (the audit event stays). A
status with a destination is also copied to that agent's durable inbox.
The data JSON text is spliced in verbatim (never re-encoded).

KEYS[1…5] room core keys (see _lib.lua)
KEYS[6]   work hash, status id → status JSON
KEYS[7]   work expiry index, zset status id → expires_at ms
KEYS[8]   inbox recipients index        (only when ARGV[9] is not empty)
KEYS[9]   the destination's inbox stream (only when ARGV[9] is not empty)
ARGV[1…5] actor id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]  status id     ARGV[7]  state     ARGV[8]  TTL ms
ARGV[9]  destination agent id ("" = none) ARGV[10] scope    ARGV[11] summary
ARGV[12] data as JSON text ("" = none)
ARGV[13] inbox MAXLEN ("0" = none)       ARGV[14] inbox idle TTL ms ("0" = none)

Returns { status JSON, audit id, inbox entry id or "" }.
]]
local to = ARGV[9]
if not (core_types_ok() and type_ok(KEYS[6], 'hash') and type_ok(KEYS[7], 'zset')) then
  return wrong_type()
end
if to ~= '' and not (type_ok(KEYS[8], 'zset') and type_ok(KEYS[9], 'stream')) then
  return wrong_type()
end
local stamp = now_text()
local now = tonumber(stamp)
local expires = now + tonumber(ARGV[8])
local json = '{"schema_version":1,"id":' .. cjson.encode(ARGV[6]) .. ',"agent_id":'
  .. cjson.encode(ARGV[1]) .. ',"agent_handle":' .. cjson.encode(ARGV[2]) .. ',"state":'
  .. cjson.encode(ARGV[7]) .. ',"scope":' .. cjson.encode(ARGV[10]) .. ',"summary":'
  .. cjson.encode(ARGV[11])
if to ~= '' then json = json .. ',"to":' .. cjson.encode(to) end
if ARGV[12] ~= '' then json = json .. ',"data":' .. ARGV[12] end
json = json .. ',"updated_at":' .. stamp .. ',"expires_at":' .. string.format('%d', expires) .. '}'

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', stamp, 'LIMIT', 0, 200)) do
  redis.call('HDEL', KEYS[6], id)
  redis.call('ZREM', KEYS[7], id)
end
if ARGV[7] == 'completed' or ARGV[7] == 'failed' then
  redis.call('HDEL', KEYS[6], ARGV[6])
  redis.call('ZREM', KEYS[7], ARGV[6])
else
  redis.call('HSET', KEYS[6], ARGV[6], json)
  redis.call('ZADD', KEYS[7], expires, ARGV[6])
end
local top = redis.call('ZRANGE', KEYS[7], -1, -1, 'WITHSCORES')
if top[2] then
  redis.call('PEXPIREAT', KEYS[6], top[2])
  redis.call('PEXPIREAT', KEYS[7], top[2])
end
local fields = { 'type', 'WORK_STATUS', 'agent_id', ARGV[1], 'agent_handle', ARGV[2],
  'session_id', ARGV[3], 'to', to, 'reply_to', '', 'payload', json }
local id = audit(fields, ARGV[4], ARGV[5], stamp)
local copy = ''
if to ~= '' then copy = deliver(KEYS[9], KEYS[8], to, id, fields, stamp, ARGV[13], ARGV[14]) end
return { json, id, copy }
