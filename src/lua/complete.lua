--[[
complete — mark a task done, store its result, drop its claim and its open
index entry, and write TASK_DONE, in one step. Ownership rule: anyone may
complete (the completer is reported when it is not the owner) unless strict,
where only the current lease owner may.

KEYS[1…5] the room core keys (see _lib.lua): stream, types-seen, catalog,
          open-task index, done hash
KEYS[6]  claims index             KEYS[7]  this task's owner key
KEYS[8]  claim-owners hash
ARGV[1]  task id       ARGV[2]  completer agent id     ARGV[3]  result JSON ("null" for none)
ARGV[4]  "1" = strict  ARGV[5]  room idle TTL ms ("0" = none)   ARGV[6]  stream MAXLEN
ARGV[7]  handle        ARGV[8]  session id

Returns one of
  { "ok", previous owner or "", audit id }
  { "unknown" } | { "not_task", type } | { "done" }
  { "not_owner", owner }            strict and another session holds the lease
  { "not_claimed" }                 strict and nobody holds the lease
]]
if not (core_types_ok() and type_ok(KEYS[6], 'zset') and type_ok(KEYS[7], 'string')
    and type_ok(KEYS[8], 'hash')) then
  return wrong_type()
end
local task_type = event_type(ARGV[1])
if not task_type then return { 'unknown' } end
if not redis.call('HGET', KEYS[3], task_type) then return { 'not_task', task_type } end
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 then return { 'done' } end
local holder = redis.call('GET', KEYS[7]) or ''
if ARGV[4] == '1' then
  if holder == '' then return { 'not_claimed' } end
  if holder ~= ARGV[2] and not id_of_session(holder, ARGV[8]) then return { 'not_owner', holder } end
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
redis.call('DEL', KEYS[7])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local payload = '{"task_id":' .. cjson.encode(ARGV[1]) .. ',"task_type":' .. cjson.encode(task_type) ..
  ',"owner":' .. cjson.encode(holder) .. ',"result":' .. ARGV[3] .. '}'
local id = audit({ 'type', 'TASK_DONE', 'agent_id', ARGV[2], 'agent_handle', ARGV[7],
  'session_id', ARGV[8], 'to', '', 'reply_to', ARGV[1], 'payload', payload }, ARGV[5], ARGV[6])
return { 'ok', holder, id }
