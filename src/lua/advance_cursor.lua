--[[
advance_cursor — move a read cursor forward, never back, and re-arm its TTL.

KEYS[1]  the cursor key (a stream id as text)
ARGV[1]  the new stream id
ARGV[2]  TTL in ms ("0" = none)

Returns the cursor after the call.
]]
-- `<ms>` (a valid stream id without its sequence) means `<ms>-0`
local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)-?(%d*)$')
  if seq == '' then seq = '0' end
  return tonumber(ms or '0'), tonumber(seq or '0')
end
local current = redis.call('GET', KEYS[1])
local cms, cseq = parse(current)
local nms, nseq = parse(ARGV[1])
if current and (nms < cms or (nms == cms and nseq <= cseq)) then
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return current
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return ARGV[1]
