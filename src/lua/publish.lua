--[[
publish — append one event to a room, atomically: stamp it with Redis server
time, record its type as seen (prerequisite gates), index it as an open task
when its type is in the catalog, and re-arm the room's idle TTL.

KEYS[1…5] the room core keys (see _lib.lua): stream, types-seen, catalog,
          open-task index, done hash
ARGV[1]   idle TTL of the room in ms ("0" = leave TTLs alone)
ARGV[2]   approximate MAXLEN cap ("0" = no trimming)
ARGV[3…]  field/value pairs of the event, starting with "type", <type>;
          without "timestamp" (added here)

Returns { entry id, timestamp ms as text }.
]]
if not core_types_ok() then return wrong_type() end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id, stamp = audit(fields, ARGV[1], ARGV[2])
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then
  redis.call('ZADD', KEYS[4], task_score(id), id)
end
return { id, stamp }
