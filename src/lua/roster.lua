--[[
roster — drop expired members from a presence index and list the live ones,
on Redis server time.

KEYS[1]  the room's presence index, a sorted set (ar:{…}:presence-index)

Returns { now ms, { member, expiry ms, member, expiry ms, … } }.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return { tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
