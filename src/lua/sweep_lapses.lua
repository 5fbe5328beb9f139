--[[
sweep_lapses — write the lapse notice of each given lapsed lease, quiet window
or claim that is still lapsed and still un-noticed, and drop the record, in one
step: LEASE_EXPIRED, WINDOW_EXPIRED or CLAIM_LAPSED, addressed to the former
owner and copied into its inbox. Of several concurrent sweepers exactly one
writes each notice; the others find nothing left.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
KEYS[12]   claims index      KEYS[13] claim-owners hash     KEYS[14] inbox recipients index
KEYS[15…]  the owners' inboxes, one per candidate, in ARGV order
ARGV[1]    room idle TTL ms  ARGV[2]  stream MAXLEN  ARGV[3]  inbox MAXLEN  ARGV[4] inbox TTL ms
ARGV[5…]   candidates as triples: kind ("lease" | "window" | "claim"), id, owner read by the
           caller (a candidate whose owner differs is skipped)

Returns { number of notices written, { event id, … } }.
]]
if not (core_types_ok() and coord_types_ok() and type_ok(KEYS[12], 'zset')
    and type_ok(KEYS[13], 'hash') and type_ok(KEYS[14], 'zset')) then
  return wrong_type()
end
local stamp = now_text()
local now = tonumber(stamp)
local written = {}
local function lapsed(index, id)
  local score = redis.call('ZSCORE', index, id)
  return score and tonumber(score) <= now
end
for i = 5, #ARGV - 2, 3 do
  local kind, id, owner = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local inbox = KEYS[15 + (i - 5) / 3]
  if type_ok(inbox, 'stream') then
    if kind == 'lease' and lapsed(L.exp, id) then
      local json = redis.call('HGET', L.hash, id)
      local lease = json and cjson.decode(json)
      if lease and lease.owner == owner then
        for _, r in ipairs(lease.resources) do redis.call('ZREM', L.res, r .. '\0' .. id) end
        redis.call('HDEL', L.hash, id)
        redis.call('ZREM', L.exp, id)
        written[#written + 1] = lapse_notice('LEASE_EXPIRED', owner, '',
          '{"schema_version":1,"lease":' .. json .. '}', inbox, KEYS[14], stamp,
          ARGV[1], ARGV[2], ARGV[3], ARGV[4])
      end
    elseif kind == 'window' and lapsed(W.live, id) then
      local w = window_record(id)
      if w and w.owner == owner and (w.state == 'pending' or w.state == 'active') then
        local phase = w.state
        w.state = 'expired'
        local json = window_json(w)
        redis.call('HSET', W.hash, id, json)
        redis.call('ZREM', W.live, id)
        written[#written + 1] = lapse_notice('WINDOW_EXPIRED', owner, '',
          '{"schema_version":1,"phase":' .. cjson.encode(phase) .. ',"window":' .. json .. '}',
          inbox, KEYS[14], stamp, ARGV[1], ARGV[2], ARGV[3], ARGV[4])
      end
    elseif kind == 'claim' and lapsed(KEYS[12], id) then
      if redis.call('HGET', KEYS[13], id) == owner then
        written[#written + 1] = claim_lapse_notice(id, owner, inbox, KEYS[14], stamp,
          ARGV[1], ARGV[2], ARGV[3], ARGV[4], KEYS[12], KEYS[13])
      end
    end
  end
end
return { #written, written }
