--[[
publish — append one event to a room stream, atomically: stamp it with Redis
server time, record its type as seen (for prerequisite gates), index it as an
open task when its type is in the catalog, and re-arm the idle TTLs.

KEYS[1]  the room stream                      (ar:{repo:branch}:events)
KEYS[2]  types-seen hash, type → last id      (ar:{…}:types-seen)
KEYS[3]  task catalog hash, type → definition (ar:{…}:catalog)
KEYS[4]  open-task index, sorted set          (ar:{…}:open-tasks)
ARGV[1]  idle TTL of the stream in ms ("0" = leave TTLs alone)
ARGV[2]  approximate MAXLEN cap ("0" = no trimming)
ARGV[3…] field/value pairs of the event, starting with "type", <type>;
         without "timestamp" (added here)

Returns { entry id, timestamp ms as text }.
]]
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id, stamp = audit(KEYS[1], KEYS[2], fields, ARGV[1], ARGV[2])
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then
  -- score ms.seq (seq capped at 999): ids of one millisecond then sort by sequence,
  -- where a bare ms score would tie-break them as text (…-10 before …-9)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  redis.call('ZADD', KEYS[4], ms .. '.' .. string.format('%03d', math.min(tonumber(seq), 999)), id)
  if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[4], ARGV[1]) end
end
return { id, stamp }
