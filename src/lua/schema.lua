--[[
schema — the data-layout version a room was written with, stamped once the
room has data: a room without a stamp but with an event stream gets the
caller's version (and the stream's idle TTL, so it lapses with the room); an
empty room is left untouched, so a rejected command writes nothing.

KEYS[1]  the room's schema key (string)
KEYS[2]  the room's event stream
ARGV[1]  the caller's layout version (a positive integer)

Returns the room's version after the call, or 0 for a room that has no data
and no stamp.
]]
local stored = redis.call('GET', KEYS[1])
if stored then return tonumber(stored) or -1 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return tonumber(ARGV[1])
