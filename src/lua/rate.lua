--[[
rate — count one send from a sender to a target in the current window, and
audit it when it goes over the limit. The window starts at the first send
after the previous one lapsed (the counter's TTL is the window).

KEYS[1]   the sender→target counter (a string)
KEYS[2]   the rate audit stream
ARGV[1]   window length in ms
ARGV[2]   limit (sends per window)
ARGV[3]   mode written to the audit entry: "observe" or "enforce"
ARGV[4]   sender agent id
ARGV[5]   target ("*" for a broadcast)
ARGV[6]   event type
ARGV[7]   idle TTL of the audit stream in ms

Returns { count in this window, 1 when over the limit else 0 }.
]]
if not (type_ok(KEYS[1], 'string') and type_ok(KEYS[2], 'stream')) then return wrong_type() end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local over = 0
if n > tonumber(ARGV[2]) then
  over = 1
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', 'from', ARGV[4], 'to', ARGV[5],
    'type', ARGV[6], 'count', n, 'limit', ARGV[2], 'window_ms', ARGV[1], 'mode', ARGV[3],
    'timestamp', now_text())
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
end
return { n, over }
