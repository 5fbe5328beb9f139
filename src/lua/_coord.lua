--[[
_coord — helpers prepended (after _lib.lua) to the lease, window, guard and
snapshot scripts; not a script of its own.

Key convention: these scripts take the room core keys (KEYS[1…5], see
_lib.lua) and then the six coordination keys
  KEYS[6]  leases hash              lease id → lease JSON
  KEYS[7]  lease expiry index       zset lease id → expires_at ms
  KEYS[8]  lease resource index     zset, every score 0, members
                                    "<resource>\0<lease id>", one per resource
  KEYS[9]  windows hash             window id → window JSON
  KEYS[10] live window index        zset window id → live-until ms (pending:
                                    ack deadline; active: expires_at);
                                    finished windows are removed
  KEYS[11] window retention index   zset window id → when its record is dropped
Common ARGV of the writing scripts: ARGV[1] actor agent id, ARGV[2] handle,
ARGV[3] session id, ARGV[4] room idle TTL ms, ARGV[5] stream MAXLEN.

Why one hash per kind: a script must declare every key it touches, yet the
live leases and windows it has to check are only known once it runs. So all
lease records of a room live in one hash and all windows in another, next to
index zsets; a script declares those few keys and reaches every record
through them. Hash fields cannot expire on their own (Redis < 7.4), so expiry
lives in the index scores: every lookup keeps only scores > now, every writing
script prunes what lapsed (a bounded batch) and sets the keys' own expiry to
their latest deadline, so idle coordination keys vanish by themselves.

The resource index answers "which leases overlap r" with ZRANGEBYLEX in
O(log n) per probe: equal (r\0…), descendants (r/…, paths only) and each
ancestor directory of a path. Resource names never hold control characters
(src/resources.ts), so NUL separates resource and id.

overlaps(a, b)        equal, or both "path:" and one an ancestor of the other
covers(held, req)     equal, or both "path:" and held an ancestor of req
first_overlap(list, r) the first resource of list overlapping r, or nil
coord_types_ok()      the six coordination keys are absent or of their type
each_overlap(r, now, visit)  visit each live lease overlapping r until visit says stop
lease_overlaps(r, now) live leases overlapping r: { { held, lease, json }, … }
live_windows(now)     live windows, decoded, in live-until order
window_record(id)     the window with this id, decoded, and its JSON; or nil
owned_window()        types, clock and window ARGV[6] for its owner ARGV[1]:
                      refusal or nil, stamp, now, window, JSON
prune_leases(now), prune_windows(now)   drop what lapsed more than LAPSE_RETENTION (24h)
                      ago without a notice (bounded batches; the sweep notices and drops
                      lapsed records first)
rearm(keys, index[, extra])  PEXPIREAT keys at the highest score of index (+ extra ms)
lease_json(l), window_json(w)           canonical JSON of a record
coord_audit(type, to, reply_to, payload, stamp)  audit() as the actor
same_session(rec, agent, session)  whether a lease or window belongs to this session:
                      its owner is `agent`, or it records `session` (any handle)
]]
local L = { hash = KEYS[6], exp = KEYS[7], res = KEYS[8] }
local W = { hash = KEYS[9], live = KEYS[10], keep = KEYS[11] }

-- the window record with this id, decoded, and its stored JSON; nil when there is none
local function window_record(id)
  local json = redis.call('HGET', W.hash, id)
  if not json then return nil end
  return cjson.decode(json), json
end
local PRUNE_BATCH = 200

-- a record is the caller's when its owner is the caller, or when it was taken by the
-- caller's session under another handle (records name their session; older ones do not)
local function same_session(rec, agent, session)
  return rec.owner == agent or (session ~= nil and session ~= '' and rec.session == session)
end

local function ms(n) return string.format('%d', n) end

local function is_path(r) return string.sub(r, 1, 5) == 'path:' end

local function starts(s, prefix) return string.sub(s, 1, #prefix) == prefix end

local function overlaps(a, b)
  if a == b then return true end
  if not (is_path(a) and is_path(b)) then return false end
  return starts(a, b .. '/') or starts(b, a .. '/')
end

local function covers(held, req)
  return held == req or (is_path(held) and is_path(req) and starts(req, held .. '/'))
end

local function first_overlap(list, r)
  for _, x in ipairs(list) do
    if overlaps(x, r) then return x end
  end
  return nil
end

local function coord_types_ok()
  return type_ok(L.hash, 'hash') and type_ok(L.exp, 'zset') and type_ok(L.res, 'zset')
    and type_ok(W.hash, 'hash') and type_ok(W.live, 'zset') and type_ok(W.keep, 'zset')
end

-- The first step of a window change by its owner: check the key types, read
-- the clock and the window ARGV[6], and refuse when it is missing or not the
-- actor's (ARGV[1]). Returns the refusal to reply with (nil to go on), then
-- the stamp, its number, the window and its JSON.
local function owned_window()
  if not (core_types_ok() and coord_types_ok()) then return wrong_type() end
  local stamp = now_text()
  local w, json = window_record(ARGV[6])
  if not w then return { 'missing' } end
  if w.owner ~= ARGV[1] then return { 'not_owner', w.owner } end
  return nil, stamp, tonumber(stamp), w, json
end

local function live_lease(id, now)
  local score = redis.call('ZSCORE', L.exp, id)
  if not score or tonumber(score) <= now then return nil end
  local json = redis.call('HGET', L.hash, id)
  if not json then return nil end
  return cjson.decode(json), json
end

-- Calls visit(held, lease, json) for each live lease overlapping r: equal, then each
-- ancestor directory, then descendants, reading the index in pages; stops as soon as
-- visit returns true (and returns true). Cost: O(log n) per probe plus the hits visited.
local function each_overlap(r, now, visit)
  local function scan(from, to)
    while true do
      local page = redis.call('ZRANGEBYLEX', L.res, from, to, 'LIMIT', 0, 64)
      for _, m in ipairs(page) do
        local cut = string.find(m, '\0', 1, true)
        local lease, json = live_lease(string.sub(m, cut + 1), now)
        if lease and visit(string.sub(m, 1, cut - 1), lease, json) then return true end
      end
      if #page < 64 then return false end
      from = '(' .. page[#page]
    end
  end
  if scan('[' .. r .. '\0', '[' .. r .. '\0\255') then return true end
  if not is_path(r) then return false end
  local from = 6
  while true do
    local slash = string.find(r, '/', from, true)
    if not slash then break end
    local parent = string.sub(r, 1, slash - 1)
    if scan('[' .. parent .. '\0', '[' .. parent .. '\0\255') then return true end
    from = slash + 1
  end
  return scan('[' .. r .. '/', '(' .. r .. '0') -- '0' is the byte after '/'
end

-- every live lease overlapping r: { { held, lease, json }, … }
local function lease_overlaps(r, now)
  local out = {}
  each_overlap(r, now, function(held, lease, json)
    out[#out + 1] = { held, lease, json }
  end)
  return out
end

local function live_windows(now)
  local out = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', W.live, '(' .. ms(now), '+inf')) do
    local json = redis.call('HGET', W.hash, id)
    if json then out[#out + 1] = cjson.decode(json) end
  end
  return out
end

-- Lapsed leases and windows are kept until their lapse notice is written (sweep_lapses.lua);
-- these prunes only drop what nobody noticed for LAPSE_RETENTION (a safety net).
local LAPSE_RETENTION = 86400000

local function prune_leases(now)
  local before = ms(now - LAPSE_RETENTION)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', L.exp, '-inf', before, 'LIMIT', 0, PRUNE_BATCH)) do
    local json = redis.call('HGET', L.hash, id)
    if json then
      for _, r in ipairs(cjson.decode(json).resources) do
        redis.call('ZREM', L.res, r .. '\0' .. id)
      end
      redis.call('HDEL', L.hash, id)
    end
    redis.call('ZREM', L.exp, id)
  end
end

local function prune_windows(now)
  redis.call('ZREMRANGEBYSCORE', W.live, '-inf', ms(now - LAPSE_RETENTION))
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', W.keep, '-inf', ms(now), 'LIMIT', 0, PRUNE_BATCH)) do
    redis.call('HDEL', W.hash, id)
    redis.call('ZREM', W.keep, id)
  end
end

-- PEXPIREAT keys at the highest score of index plus `extra` ms (lapsed leases stay
-- LAPSE_RETENTION for their notice)
local function rearm(keys, index, extra)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if top[2] then
    for _, key in ipairs(keys) do redis.call('PEXPIREAT', key, tonumber(top[2]) + (extra or 0)) end
  end
end

local function json_list(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = cjson.encode(v) end
  return '[' .. table.concat(parts, ',') .. ']'
end

local function session_field(rec)
  if rec.session == nil or rec.session == '' then return '' end
  return ',"session":' .. cjson.encode(rec.session)
end

local function lease_json(l)
  return '{"id":' .. cjson.encode(l.id) .. ',"owner":' .. cjson.encode(l.owner) .. session_field(l)
    .. ',"purpose":' .. cjson.encode(l.purpose) .. ',"resources":' .. json_list(l.resources)
    .. ',"created_at":' .. ms(l.created_at) .. ',"expires_at":' .. ms(l.expires_at) .. '}'
end

local function window_json(w)
  return '{"id":' .. cjson.encode(w.id) .. ',"owner":' .. cjson.encode(w.owner) .. session_field(w)
    .. ',"purpose":' .. cjson.encode(w.purpose) .. ',"resources":' .. json_list(w.resources)
    .. ',"state":' .. cjson.encode(w.state) .. ',"required":' .. json_list(w.required)
    .. ',"via_lease":' .. json_list(w.via_lease) .. ',"acknowledged":' .. json_list(w.acknowledged)
    .. ',"created_at":' .. ms(w.created_at) .. ',"ack_deadline":' .. ms(w.ack_deadline)
    .. ',"expires_at":' .. ms(w.expires_at) .. ',"ttl_ms":' .. ms(w.ttl_ms) .. '}'
end

local function coord_audit(event_type, to, reply_to, payload, stamp)
  return audit({ 'type', event_type, 'agent_id', ARGV[1], 'agent_handle', ARGV[2],
    'session_id', ARGV[3], 'to', to, 'reply_to', reply_to, 'payload', payload },
    ARGV[4], ARGV[5], stamp)
end
