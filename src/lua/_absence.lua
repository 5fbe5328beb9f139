--[[
_absence — helper prepended (after _lib.lua, and _coord.lua where used) to the
scripts that break a lease or steal a claim; not a script of its own.

holder_absence(index, ends, owner, session, now)
    whether `owner` is present (its own live presence, or a live agent of its
    session when `session` is known: self is the session), and, when absent,
    the latest moment the presence of the owner or of its session ended (Unix
    ms, nil when never seen). `index` is the presence index (zset scored by
    expiry), `ends` the presence-ends hash (agent id → when its presence ends).
]]
local function holder_absence(index, ends, owner, session, now)
  local score = redis.call('ZSCORE', index, owner)
  if score and tonumber(score) > now then return true, nil end
  local last = tonumber(redis.call('HGET', ends, owner) or '')
  if session ~= nil and session ~= '' then
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. string.format('%d', now), '+inf')) do
      if id_of_session(m, session) then return true, nil end
    end
    local all = redis.call('HGETALL', ends)
    for i = 1, #all, 2 do
      if id_of_session(all[i], session) then
        local t = tonumber(all[i + 1])
        if t and (last == nil or t > last) then last = t end
      end
    end
  end
  if last ~= nil and last > now then last = now end
  return false, last
end
