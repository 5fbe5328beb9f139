--[[
live_claims — drop lapsed claims from the claims index and list live ones,
on Redis server time.

KEYS[1]  claims index (task id → expiry ms)

Returns { task id, expiry ms, … } of live claims.
]]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_text())
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
