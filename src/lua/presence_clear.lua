--[[
presence_clear — remove agents' presence (leaving), recording in the
presence-ends hash that their presence ended now (server clock), so
"owner absent 3m" counts from the moment they left.

KEYS[1]    the room's presence index (zset)
KEYS[2]    the presence-ends hash
KEYS[3…]   the presence records of the agents ARGV[2…], in the same order
ARGV[1]    the room's idle TTL in ms (lifetime of the presence-ends hash; "0" = none)
ARGV[2…]   agent ids

Returns the number of records removed.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local removed = 0
local ends_type = redis.call('TYPE', KEYS[2])['ok']
for i = 2, #ARGV do
  removed = removed + redis.call('DEL', KEYS[i + 1])
  redis.call('ZREM', KEYS[1], ARGV[i])
  if ends_type == 'none' or ends_type == 'hash' then
    redis.call('HSET', KEYS[2], ARGV[i], now)
  end
end
if #ARGV > 1 and (ends_type == 'none' or ends_type == 'hash') and tonumber(ARGV[1]) > 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return removed
