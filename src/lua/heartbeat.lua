--[[
heartbeat — write or refresh one agent's presence record and its roster
index entry, scored by expiry on Redis server time.

KEYS[1]  the agent's presence record (ar:{…}:presence:<agent>)
KEYS[2]  the room's presence index, a sorted set (ar:{…}:presence-index)
ARGV[1]  TTL in ms
ARGV[2]  agent id (index member)
ARGV[3]  record JSON to write
ARGV[4]  "label": always write ARGV[3]; "refresh": extend the existing
         record's TTL and write ARGV[3] only when no record exists

Returns the expiry in ms (server clock).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if ARGV[4] == 'label' or redis.call('PEXPIRE', KEYS[1], ttl) == 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return now + ttl
