--[[
_lib — helpers prepended to the coordination scripts (not a script of its own).

now_ms()                     Redis server time in Unix ms, as a number
now_text(t)                  the same as exact decimal text
audit(stream, seen, fields, stream_ttl, maxlen[, stamp])
                             appends an audit event (fields = flat list without
                             timestamp), stamps it with server time (or with
                             stamp, a now_text() the caller already read), records
                             its type in the types-seen hash, re-arms the stream
                             TTL; returns the entry id and its timestamp text
stream_type_ok(key)          true when key is absent or a stream
type_ok(key, kind)           true when key is absent or of that TYPE ('hash', 'zset', …)
]]
local function now_text()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

local function now_ms()
  return tonumber(now_text())
end

local function audit(stream, seen, fields, stream_ttl, maxlen, stamp)
  local args = { 'XADD', stream }
  if tonumber(maxlen) > 0 then
    table.insert(args, 'MAXLEN')
    table.insert(args, '~')
    table.insert(args, maxlen)
  end
  table.insert(args, '*')
  local event_type = ''
  for i = 1, #fields do
    table.insert(args, fields[i])
    if fields[i] == 'type' and i % 2 == 1 then event_type = fields[i + 1] end
  end
  stamp = stamp or now_text()
  table.insert(args, 'timestamp')
  table.insert(args, stamp)
  local id = redis.call(unpack(args))
  redis.call('HSET', seen, event_type, id)
  if tonumber(stream_ttl) > 0 then
    redis.call('PEXPIRE', stream, stream_ttl)
    redis.call('PEXPIRE', seen, stream_ttl)
  end
  return id, stamp
end

local function stream_type_ok(key)
  local kind = redis.call('TYPE', key)['ok']
  return kind == 'none' or kind == 'stream'
end

local function type_ok(key, kind)
  local found = redis.call('TYPE', key)['ok']
  return found == 'none' or found == kind
end
