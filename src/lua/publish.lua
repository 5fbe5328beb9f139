--[[
publish — append one event to a room, atomically: stamp it with Redis server
time, record its type as seen (prerequisite gates), index it as an open task
when its type is in the catalog, optionally copy it to one recipient's durable
inbox, and re-arm the room's idle TTL.

KEYS[1…5] the room core keys (see _lib.lua): stream, types-seen, catalog,
          open-task index, done hash
KEYS[6]   the recipient's inbox stream      (only when ARGV[3] is not empty)
KEYS[7]   the inbox recipients index, zset  (only when ARGV[3] is not empty)
ARGV[1]   idle TTL of the room in ms ("0" = leave TTLs alone)
ARGV[2]   approximate MAXLEN cap of the room stream ("0" = no trimming)
ARGV[3]   recipient agent id for an inbox copy ("" = none)
ARGV[4]   approximate MAXLEN cap of the inbox ("0" = none)
ARGV[5]   inbox idle TTL in ms ("0" = none)
ARGV[6…]  field/value pairs of the event, starting with "type", <type>;
          without "timestamp" (added here)

Returns { entry id, timestamp ms as text, inbox entry id or "" }.
]]
if not core_types_ok() then return wrong_type() end
local inboxed = ARGV[3] ~= ''
if inboxed and not (type_ok(KEYS[6], 'stream') and type_ok(KEYS[7], 'zset')) then
  return wrong_type()
end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
local id, stamp = audit(fields, ARGV[1], ARGV[2])
if redis.call('HEXISTS', KEYS[3], ARGV[7]) == 1 then
  redis.call('ZADD', KEYS[4], task_score(id), id)
end
local copy = ''
if inboxed then
  copy = deliver(KEYS[6], KEYS[7], ARGV[3], id, fields, stamp, ARGV[4], ARGV[5])
end
return { id, stamp, copy }
