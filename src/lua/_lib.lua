--[[
_lib — helpers prepended to every script that writes room events (not a
script of its own).

Convention: every such script receives the room's core keys first,
  KEYS[1] the room stream (ar:{repo:branch}:events)
  KEYS[2] types-seen hash, type → newest id of that type
  KEYS[3] task catalog hash, type → definition JSON
  KEYS[4] open-task index, sorted set of not-yet-done task ids
  KEYS[5] done hash, task id → result JSON
and its own keys after them. The core keys live exactly as long as the room:
every event written re-arms their idle TTL together, so no part of the
room's state (a catalog entry, a done marker) expires while the room is busy.

now_text()                   Redis server time in Unix ms, as exact decimal text
core_types_ok()              true when every core key is absent or of its type
type_ok(key, kind)           true when key is absent or of that TYPE
audit(fields, ttl, maxlen[, stamp])
                             appends an event (fields = flat list without
                             timestamp) stamped with server time (or stamp, a
                             now_text() the caller already read), records its
                             type in types-seen, re-arms the core keys' TTL;
                             returns the entry id and its timestamp text
task_score(id)               open-index score "ms.seq" of a stream id
event_type(id)               the type of stream entry id in KEYS[1], or nil when absent
deliver(inbox, recipients, recipient, source_id, fields, stamp, maxlen, ttl)
                             appends a copy of an event (fields as for audit) to a
                             recipient's inbox stream with its room entry id as
                             source_id, marks the recipient in the recipients
                             index (score = expiry ms), re-arms both TTLs
wrong_type()                 the error reply for a room key of the wrong type
LAYOUT_VERSION, LAYOUT_FIELD the room's data-layout version and the types-seen field
                             that records it (a name with a space, so never an
                             event type); audit() records it once (HSETNX), so
                             a room records the layout it was first written with
id_of_session(agent, session)
                             whether agent id `agent` belongs to session token
                             `session`: the bare token or `<handle>-<token>`
]]
local LAYOUT_VERSION = 1
local LAYOUT_FIELD = 'layout version'

local function id_of_session(agent, session)
  if session == nil or session == '' then return false end
  return agent == session or string.sub(agent, -(#session + 1)) == '-' .. session
end

local function now_text()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

local function type_ok(key, kind)
  local found = redis.call('TYPE', key)['ok']
  return found == 'none' or found == kind
end

local function core_types_ok()
  return type_ok(KEYS[1], 'stream') and type_ok(KEYS[2], 'hash') and type_ok(KEYS[3], 'hash')
    and type_ok(KEYS[4], 'zset') and type_ok(KEYS[5], 'hash')
end

-- XADD key [MAXLEN ~ maxlen] * : the start of every append
local function xadd_args(key, maxlen)
  local args = { 'XADD', key }
  if tonumber(maxlen) > 0 then
    table.insert(args, 'MAXLEN')
    table.insert(args, '~')
    table.insert(args, maxlen)
  end
  table.insert(args, '*')
  return args
end

local function audit(fields, stream_ttl, maxlen, stamp)
  local args = xadd_args(KEYS[1], maxlen)
  local event_type = ''
  for i = 1, #fields do
    table.insert(args, fields[i])
    if fields[i] == 'type' and i % 2 == 1 then event_type = fields[i + 1] end
  end
  stamp = stamp or now_text()
  table.insert(args, 'timestamp')
  table.insert(args, stamp)
  local id = redis.call(unpack(args))
  redis.call('HSET', KEYS[2], event_type, id)
  redis.call('HSETNX', KEYS[2], LAYOUT_FIELD, LAYOUT_VERSION)
  if tonumber(stream_ttl) > 0 then
    for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], stream_ttl) end
  end
  return id, stamp
end

-- ids of one millisecond sort by sequence (seq capped at 999), where a bare ms
-- score would tie-break them as text (…-10 before …-9)
local function task_score(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms .. '.' .. string.format('%03d', math.min(tonumber(seq), 999))
end

local function wrong_type()
  return redis.error_reply('WRONGTYPE a room key has the wrong type; nothing was written')
end

local function event_type(id)
  local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
  if not entry then return nil end
  for i = 1, #entry[2], 2 do
    if entry[2][i] == 'type' then return entry[2][i + 1] end
  end
  return ''
end

local function deliver(inbox, recipients, recipient, source_id, fields, stamp, maxlen, ttl)
  local args = xadd_args(inbox, maxlen)
  table.insert(args, 'source_id')
  table.insert(args, source_id)
  for i = 1, #fields do table.insert(args, fields[i]) end
  table.insert(args, 'timestamp')
  table.insert(args, stamp)
  local id = redis.call(unpack(args))
  if tonumber(ttl) > 0 then
    redis.call('ZADD', recipients, tonumber(stamp) + tonumber(ttl), recipient)
    redis.call('PEXPIRE', inbox, ttl)
    redis.call('PEXPIRE', recipients, ttl)
  else
    redis.call('ZADD', recipients, '+inf', recipient)
  end
  return id
end
