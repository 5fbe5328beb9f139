--[[
runtime_fail — record one failed attempt of a consumer group's worker on a
stream entry; at the cap, move the entry to the group's dead-letter stream
and acknowledge it, in one step (nothing is dropped silently).

KEYS[1]  the room stream
KEYS[2]  the group's dead-letter stream
KEYS[3]  the group's attempts hash, entry id → failed attempts
ARGV[1]  group name
ARGV[2]  entry id
ARGV[3]  attempts cap (≥ 1): the attempt that reaches it dead-letters the entry
ARGV[4]  lifetime of the attempts hash in ms (re-armed on every failure)
ARGV[5]  the error, JSON text
ARGV[6]  the consumer that failed

Returns
  { "retry", attempts }             the entry stays pending (retried after min-idle)
  { "dead", attempts, dead id }     copied to the dead-letter stream, acknowledged
  { "gone", attempts }              the entry left the stream meanwhile; acknowledged
]]
if not (type_ok(KEYS[1], 'stream') and type_ok(KEYS[2], 'stream') and type_ok(KEYS[3], 'hash')) then
  return wrong_type()
end
local n = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
if n < tonumber(ARGV[3]) then return { 'retry', n } end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
local found = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #found == 0 then return { 'gone', n } end
local fields = found[1][2]
fields[#fields + 1] = 'dead_id'
fields[#fields + 1] = ARGV[2]
fields[#fields + 1] = 'dead_group'
fields[#fields + 1] = ARGV[1]
fields[#fields + 1] = 'dead_error'
fields[#fields + 1] = ARGV[5]
fields[#fields + 1] = 'dead_attempts'
fields[#fields + 1] = tostring(n)
fields[#fields + 1] = 'dead_consumer'
fields[#fields + 1] = ARGV[6]
local dead = redis.call('XADD', KEYS[2], '*', unpack(fields))
return { 'dead', n, dead }
