--[[
complete — mark a task done, store its result, drop its claim and its open
index entry, and write TASK_DONE, in one step. Ownership rule: anyone may
complete (the completer is reported when it is not the owner) unless strict,
where only the current lease owner may.

KEYS[1]  the room stream                 KEYS[2]  types-seen hash
KEYS[3]  task catalog hash               KEYS[4]  claims index
KEYS[5]  open-task index                 KEYS[6]  this task's owner key
KEYS[7]  this task's done key
ARGV[1]  task id       ARGV[2]  completer agent id     ARGV[3]  result JSON ("null" for none)
ARGV[4]  "1" = strict  ARGV[5]  done-marker TTL ms ("0" = none)
ARGV[6]  stream idle TTL ms      ARGV[7]  stream MAXLEN   ARGV[8]  handle   ARGV[9]  session id

Returns one of
  { "ok", previous owner or "", audit id }
  { "unknown" } | { "not_task", type } | { "done" }
  { "not_owner", owner }            strict and someone else holds the lease
  { "not_claimed" }                 strict and nobody holds the lease
]]
if not stream_type_ok(KEYS[1]) then return redis.error_reply('WRONGTYPE room stream is not a stream') end
if not (type_ok(KEYS[2], 'hash') and type_ok(KEYS[4], 'zset') and type_ok(KEYS[5], 'zset')) then
  return redis.error_reply('WRONGTYPE a room index has the wrong type')
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return { 'unknown' } end
local task_type = ''
for i = 1, #entry[2], 2 do
  if entry[2][i] == 'type' then task_type = entry[2][i + 1] end
end
if not redis.call('HGET', KEYS[3], task_type) then return { 'not_task', task_type } end
if redis.call('EXISTS', KEYS[7]) == 1 then return { 'done' } end
local holder = redis.call('GET', KEYS[6]) or ''
if ARGV[4] == '1' then
  if holder == '' then return { 'not_claimed' } end
  if holder ~= ARGV[2] then return { 'not_owner', holder } end
end
if tonumber(ARGV[5]) > 0 then
  redis.call('SET', KEYS[7], ARGV[3], 'PX', ARGV[5])
else
  redis.call('SET', KEYS[7], ARGV[3])
end
redis.call('DEL', KEYS[6])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
local payload = '{"task_id":' .. cjson.encode(ARGV[1]) .. ',"task_type":' .. cjson.encode(task_type) ..
  ',"owner":' .. cjson.encode(holder) .. ',"result":' .. ARGV[3] .. '}'
local id = audit(KEYS[1], KEYS[2], { 'type', 'TASK_DONE', 'agent_id', ARGV[2], 'agent_handle', ARGV[8],
  'session_id', ARGV[9], 'to', '', 'reply_to', ARGV[1], 'payload', payload }, ARGV[6], ARGV[7])
return { 'ok', holder, id }
