--[[
end_ask — release an agent's pending-ask lease, only if it is still ours.

KEYS[1]  the pending-ask key of the asking agent
ARGV[1]  the token written when the ask began

Returns 1 when released, 0 when the key held another token or was gone.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
