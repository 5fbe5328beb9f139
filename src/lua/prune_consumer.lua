--[[
prune_consumer — remove a consumer from a group only if it holds no pending
entries, atomically (XGROUP DELCONSUMER discards a consumer's pending entries,
which would then never be delivered again).

KEYS[1]  the room stream
ARGV[1]  group name
ARGV[2]  consumer name

Returns { "pruned" } or { "busy", pending count } (kept).
]]
local summary = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #summary > 0 then return { 'busy', #summary } end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return { 'pruned' }
