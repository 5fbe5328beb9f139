--[[
live_claims — list live claims on Redis server time. Lapsed claims stay in
the index until their lapse notice is written (sweep_lapses.lua); only those
lapsed more than 24h ago without a notice are dropped here (a safety net).

KEYS[1]  claims index (task id → expiry ms)

Returns { task id, expiry ms, … } of live claims.
]]
local now = now_text()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', tonumber(now) - 86400000))
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
