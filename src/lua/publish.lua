--[[
publish — append one event to a room stream and re-arm the stream's idle TTL,
atomically, stamping the event with Redis server time.

KEYS[1]  the room stream (ar:{repo:branch}:events)
ARGV[1]  idle TTL of the stream in ms ("0" = leave the TTL alone)
ARGV[2]  approximate MAXLEN cap ("0" = no trimming)
ARGV[3…] field/value pairs of the event, without "timestamp"

Returns { entry id, timestamp ms as text }.
]]
local t = redis.call('TIME')
local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local args = { 'XADD', KEYS[1] }
if tonumber(ARGV[2]) > 0 then
  table.insert(args, 'MAXLEN')
  table.insert(args, '~')
  table.insert(args, ARGV[2])
end
table.insert(args, '*')
for i = 3, #ARGV do table.insert(args, ARGV[i]) end
table.insert(args, 'timestamp')
table.insert(args, now)
local id = redis.call(unpack(args))
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { id, now }
