--[[
welcome — pin one canonical WELCOME event in the lobby: delete the previous
pinned entry from the stream, append the new one, and keep a copy under a key
without expiry, all in one step (two concurrent runs leave one WELCOME).

KEYS[1…5] the lobby's core keys (see _lib.lua)
KEYS[6]   the pinned-welcome key (JSON of the current WELCOME event; no TTL)
ARGV[1]   idle TTL of the room in ms     ARGV[2]  stream MAXLEN ("0" = none)
ARGV[3…]  field/value pairs of the WELCOME event, without "timestamp"

Returns { entry id, timestamp ms as text, id of the replaced entry or "" }.
]]
if not (core_types_ok() and type_ok(KEYS[6], 'string')) then return wrong_type() end
local previous = ''
local pinned = redis.call('GET', KEYS[6])
if pinned then
  previous = cjson.decode(pinned)['id'] or ''
  if previous ~= '' then redis.call('XDEL', KEYS[1], previous) end
end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id, stamp = audit(fields, ARGV[1], ARGV[2])
local copy = { id = id, timestamp = stamp }
for i = 1, #fields, 2 do copy[fields[i]] = fields[i + 1] end
redis.call('SET', KEYS[6], cjson.encode(copy))
return { id, stamp, previous }
