--[[
pending_step — compare-and-set one pending-reply ledger entry, so that of
several processes of a sender sweeping the ledger at once exactly one takes
each step (a re-ping, the escalation).

KEYS[1]   the sender's ledger hash
ARGV[1]   the entry's message id (hash field)
ARGV[2]   the entry's JSON as the caller read it
ARGV[3]   the entry's new JSON

Returns 1 when the entry still held ARGV[2] and now holds ARGV[3], else 0.
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
