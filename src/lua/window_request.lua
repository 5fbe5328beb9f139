--[[
window_request — ask for a quiet window: exclusive use of resources for a
while (a migration, a release). Refused when a live window (anyone's)
overlaps. Owners of live leases of other agents that overlap become required
acknowledgers next to the ones named; each required agent gets
WINDOW_ACK_REQUIRED as a room event and as a copy in its durable inbox. With
nobody to ask, the window is active at once (WINDOW_REQUESTED then
WINDOW_ACTIVATED); otherwise it is pending until activated or until the ack
deadline passes. The requester's own leases never block its window.

The inboxes of the lease owners are only known once the script runs, yet every
key must be declared: the caller passes the inboxes of the agents it expects
(KEYS[13…], named in ARGV[15]); when a required agent is not among them the
script writes nothing and answers "retry" with the agents it needs.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
KEYS[12]   inbox recipients index      KEYS[13…] inbox streams of ARGV[15]'s agents
ARGV[1…5]  actor (owner) id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]  window id (fresh)     ARGV[7]  TTL ms once active    ARGV[8]  ack timeout ms
ARGV[9]  purpose               ARGV[10] record retention ms after the window ends
ARGV[11] inbox MAXLEN ("0" = none)      ARGV[12] inbox idle TTL ms ("0" = none)
ARGV[13] resources, JSON array (normalised)
ARGV[14] agents named as required, JSON array (never the owner)
ARGV[15] agents whose inboxes are KEYS[13…], JSON array, same order

Returns one of
  { "ok", window JSON, WINDOW_REQUESTED id }
  { "window", now ms, requested, held, window JSON }   a live window overlaps
  { "retry", JSON array of the required agents }        an inbox key is missing
  { "exists" }                                          the id is taken
]]
local owner = ARGV[1]
local resources = cjson.decode(ARGV[13])
local candidates = cjson.decode(ARGV[15])
if not (core_types_ok() and coord_types_ok() and type_ok(KEYS[12], 'zset')) then
  return wrong_type()
end
for i = 1, #candidates do
  if not type_ok(KEYS[12 + i], 'stream') then return wrong_type() end
end
local stamp = now_text()
local now = tonumber(stamp)
if redis.call('HEXISTS', W.hash, ARGV[6]) == 1 then return { 'exists' } end
for _, w in ipairs(live_windows(now)) do
  for _, r in ipairs(resources) do
    local held = first_overlap(w.resources, r)
    if held then return { 'window', now, r, held, window_json(w) } end
  end
end

local set, required, via_lease = {}, {}, {}
for _, agent in ipairs(cjson.decode(ARGV[14])) do
  if agent ~= owner and not set[agent] then
    set[agent] = 'named'
    required[#required + 1] = agent
  end
end
for _, r in ipairs(resources) do
  for _, hit in ipairs(lease_overlaps(r, now)) do
    local holder = hit[2].owner
    if not same_session(hit[2], owner, ARGV[3]) and not set[holder] then
      set[holder] = 'lease'
      required[#required + 1] = holder
      via_lease[#via_lease + 1] = holder
    end
  end
end
table.sort(required)
table.sort(via_lease)
local inbox = {}
for i, agent in ipairs(candidates) do inbox[agent] = KEYS[12 + i] end
for _, agent in ipairs(required) do
  if not inbox[agent] then return { 'retry', json_list(required) } end
end

local ttl, ack = tonumber(ARGV[7]), tonumber(ARGV[8])
local w = { id = ARGV[6], owner = owner, session = ARGV[3], purpose = ARGV[9], resources = resources,
  required = required, via_lease = via_lease, acknowledged = {}, created_at = now,
  ttl_ms = ttl }
if #required == 0 then
  w.state, w.ack_deadline, w.expires_at = 'active', now, now + ttl
else
  w.state, w.ack_deadline, w.expires_at = 'pending', now + ack, now + ack
end
local json = window_json(w)
prune_windows(now)
redis.call('HSET', W.hash, w.id, json)
redis.call('ZADD', W.live, w.expires_at, w.id)
redis.call('ZADD', W.keep, w.expires_at + tonumber(ARGV[10]), w.id)
rearm({ W.hash, W.live, W.keep }, W.keep)
local payload = '{"schema_version":1,"window":' .. json .. '}'
local requested = coord_audit('WINDOW_REQUESTED', '', '', payload, stamp)
if w.state == 'active' then
  coord_audit('WINDOW_ACTIVATED', '', requested, payload, stamp)
end
for _, agent in ipairs(required) do
  local reason = set[agent] == 'lease' and 'holds an overlapping lease' or 'named as required'
  local notice = '{"schema_version":1,"window":' .. json .. ',"reason":' .. cjson.encode(reason) .. '}'
  local fields = { 'type', 'WINDOW_ACK_REQUIRED', 'agent_id', owner, 'agent_handle', ARGV[2],
    'session_id', ARGV[3], 'to', agent, 'reply_to', requested, 'payload', notice }
  local id = audit(fields, ARGV[4], ARGV[5], stamp)
  deliver(inbox[agent], KEYS[12], agent, id, fields, stamp, ARGV[11], ARGV[12])
end
return { 'ok', json, requested }
