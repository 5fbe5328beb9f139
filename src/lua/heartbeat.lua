--[[
heartbeat — write or refresh one agent's presence record and its roster
index entry, scored by expiry on Redis server time; record the agent's
presence end (when it lapses unless refreshed); and move the messages kept in the mailboxes of its handle and
of its exact id into its inbox (the first presence write under a handle
receives what waited for it).

KEYS[1]  the agent's presence record (ar:{…}:presence:<agent>)
KEYS[2]  the room's presence index, a sorted set (ar:{…}:presence-index)
KEYS[3]  the room's presence-ends hash, agent id → when its presence ends (Unix ms)
KEYS[4]  the agent's inbox stream
KEYS[5]  the inbox recipients index, zset
KEYS[6]  the mailbox of the agent's handle (a stream)
KEYS[7]  the mailbox of the agent's exact id (a stream)
KEYS[8]  the mailbox index, zset (mailbox name → expiry ms)
ARGV[1]  TTL in ms
ARGV[2]  agent id (index member)
ARGV[3]  record JSON to write
ARGV[4]  "label": always write ARGV[3]; "refresh": extend the existing
         record's TTL and write ARGV[3] only when no record exists
ARGV[5]  approximate MAXLEN cap of the inbox ("0" = none)
ARGV[6]  inbox idle TTL in ms ("0" = none)
ARGV[7]  the room's idle TTL in ms (lifetime of the presence-ends hash; "0" = none)
ARGV[8]  the handle's mailbox name ("" = the agent has no handle)

Returns the expiry in ms (server clock).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if ARGV[4] == 'label' or redis.call('PEXPIRE', KEYS[1], ttl) == 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
local seen_type = redis.call('TYPE', KEYS[3])['ok']
if seen_type == 'none' or seen_type == 'hash' then
  redis.call('HSET', KEYS[3], ARGV[2], now + ttl)
  local room_ttl = tonumber(ARGV[7])
  if room_ttl > 0 then redis.call('PEXPIRE', KEYS[3], room_ttl) end
end

local function move(mailbox, name)
  if redis.call('TYPE', mailbox)['ok'] ~= 'stream' then return 0 end
  local inbox_type = redis.call('TYPE', KEYS[4])['ok']
  if inbox_type ~= 'none' and inbox_type ~= 'stream' then return 0 end
  local entries = redis.call('XRANGE', mailbox, '-', '+')
  local last = 0
  for _, entry in ipairs(entries) do
    local args = { 'XADD', KEYS[4] }
    if tonumber(ARGV[5]) > 0 then
      table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, ARGV[5])
    end
    table.insert(args, '*')
    for _, v in ipairs(entry[2]) do table.insert(args, v) end
    redis.call(unpack(args))
  end
  redis.call('DEL', mailbox)
  redis.call('ZREM', KEYS[8], name)
  return #entries
end

local moved = 0
if ARGV[8] ~= '' then moved = moved + move(KEYS[6], ARGV[8]) end
if KEYS[7] ~= KEYS[6] then moved = moved + move(KEYS[7], ARGV[2]) end
if moved > 0 then
  local inbox_ttl = tonumber(ARGV[6])
  if inbox_ttl > 0 then
    redis.call('ZADD', KEYS[5], now + inbox_ttl, ARGV[2])
    redis.call('PEXPIRE', KEYS[4], inbox_ttl)
    redis.call('PEXPIRE', KEYS[5], inbox_ttl)
  else
    redis.call('ZADD', KEYS[5], '+inf', ARGV[2])
  end
end
return now + ttl
