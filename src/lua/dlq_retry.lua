--[[
dlq_retry — put a dead-lettered event back into the room: append its
original fields (type, agent, payload, …) to the room stream as a new event
stamped with server time, and delete it from the dead-letter stream, in one
step. Every consumer group whose interests match sees the new entry.

KEYS[1…5] the room core keys (see _lib.lua)
KEYS[6]   the group's dead-letter stream
ARGV[1]   idle TTL of the room in ms ("0" = leave TTLs alone)
ARGV[2]   approximate MAXLEN cap of the room stream ("0" = no trimming)
ARGV[3]   the dead-letter entry id

Returns { "retried", new room entry id } or { "missing" }.
]]
if not (core_types_ok() and type_ok(KEYS[6], 'stream')) then return wrong_type() end
local found = redis.call('XRANGE', KEYS[6], ARGV[3], ARGV[3])
if #found == 0 then return { 'missing' } end
local source = found[1][2]
local fields = {}
for i = 1, #source, 2 do
  local name = source[i]
  if name ~= 'timestamp' and string.sub(name, 1, 5) ~= 'dead_' then
    fields[#fields + 1] = name
    fields[#fields + 1] = source[i + 1]
  end
end
local id = audit(fields, ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[6], ARGV[3])
return { 'retried', id }
