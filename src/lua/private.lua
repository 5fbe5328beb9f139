--[[
private — deliver one event to a recipient's durable inbox only: it is not
appended to the room stream (the shared feed). Its id is its inbox entry id;
the copy's source_id is "private".

KEYS[1]   the recipient's inbox stream
KEYS[2]   the inbox recipients index, zset
ARGV[1]   recipient agent id
ARGV[2]   approximate MAXLEN cap of the inbox ("0" = none)
ARGV[3]   inbox idle TTL in ms ("0" = none)
ARGV[4…]  field/value pairs of the event, starting with "type", <type>;
          without "timestamp" (added here)

Returns { inbox entry id, timestamp ms as text }.
]]
if not (type_ok(KEYS[1], 'stream') and type_ok(KEYS[2], 'zset')) then return wrong_type() end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local stamp = now_text()
local id = deliver(KEYS[1], KEYS[2], ARGV[1], 'private', fields, stamp, ARGV[2], ARGV[3])
return { id, stamp }
