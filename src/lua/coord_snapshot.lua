--[[
coord_snapshot — read-only: live leases, windows and work statuses at one
instant of Redis server time, for status(), listLeases(), listWindows() and
listWork(). Reads the indexes, never the stream, so its cost depends on how
many records are listed (capped by ARGV[1]), not on the room's history.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
KEYS[12]   work hash          KEYS[13]  work expiry index
ARGV[1]    most records per list ("0" = all)
ARGV[2]    "live": pending and active windows that have not lapsed;
           "all": every retained window, lapsed and ended ones included
           (oldest deadline first)

Returns { now ms, live lease count, { lease JSON, … } (soonest expiry first),
          window count, { window JSON, … }, live work count,
          { work JSON, … } (latest expiry first) }.
]]
local now = tonumber(now_text())
local after = '(' .. ms(now)
local limit = tonumber(ARGV[1])
local function page(index, from)
  if limit > 0 then
    return redis.call('ZRANGEBYSCORE', index, from, '+inf', 'LIMIT', 0, limit)
  end
  return redis.call('ZRANGEBYSCORE', index, from, '+inf')
end
local function records(hash, ids)
  local out = {}
  for i = 1, #ids, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #ids) do chunk[#chunk + 1] = ids[j] end
    for _, v in ipairs(redis.call('HMGET', hash, unpack(chunk))) do
      if v then out[#out + 1] = v end
    end
  end
  return out
end
local window_index = ARGV[2] == 'all' and W.keep or W.live
local newest = { 'ZREVRANGEBYSCORE', KEYS[13], '+inf', after }
if limit > 0 then newest = { 'ZREVRANGEBYSCORE', KEYS[13], '+inf', after, 'LIMIT', 0, limit } end
local work = redis.call(unpack(newest))
return {
  now,
  redis.call('ZCOUNT', L.exp, after, '+inf'),
  records(L.hash, page(L.exp, after)),
  redis.call('ZCOUNT', window_index, after, '+inf'),
  records(W.hash, page(window_index, after)),
  redis.call('ZCOUNT', KEYS[13], after, '+inf'),
  records(KEYS[12], work),
}
