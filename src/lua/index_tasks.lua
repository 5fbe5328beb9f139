--[[
index_tasks — add task ids found by a catalog backfill to the open-task
index, skipping tasks that are already done. Used when a type is registered
after tasks of that type were published.

KEYS[1]   open-task index (sorted set)
KEYS[2]   done hash, task id → result JSON
ARGV[1…]  task ids (stream entry ids)

Returns the number of ids added.
]]
local added = 0
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    local ms, seq = string.match(ARGV[i], '^(%d+)-(%d+)$')
    local score = ms .. '.' .. string.format('%03d', math.min(tonumber(seq), 999))
    added = added + redis.call('ZADD', KEYS[1], score, ARGV[i])
  end
end
return added
