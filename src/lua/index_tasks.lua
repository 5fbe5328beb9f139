--[[
index_tasks — add task ids found by a catalog backfill to the open-task
index, skipping tasks that are already done. Used when a type is registered
after tasks of that type were published.

KEYS[1]      open-task index
KEYS[2…]     done key of each task, in ARGV order
ARGV[1]      stream idle TTL ms ("0" = none)
ARGV[2…]     task ids (stream entry ids)

Returns the number of ids added.
]]
local added = 0
for i = 2, #ARGV do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    -- score ms.seq, as in publish.lua
    local ms, seq = string.match(ARGV[i], '^(%d+)-(%d+)$')
    local score = ms .. '.' .. string.format('%03d', math.min(tonumber(seq), 999))
    added = added + redis.call('ZADD', KEYS[1], score, ARGV[i])
  end
end
if added > 0 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return added
