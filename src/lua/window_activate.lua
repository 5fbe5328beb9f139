--[[
window_activate — the owner turns a pending quiet window active, before its
ack deadline, once every required agent has acknowledged and no other
agent's live lease overlaps it. An agent that was required only because it
held an overlapping lease counts as acknowledged once it holds no such lease
(released or lapsed): yielding the resources is the answer that matters.
Writes WINDOW_ACTIVATED in the same step; of two concurrent activations one
wins, the other sees state "active".

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1…5]  actor (owner) id, handle, session id, room idle TTL ms, MAXLEN
ARGV[6]    window id      ARGV[7]  record retention ms after the window ends

Returns one of
  { "ok", window JSON, audit id }
  { "missing" } | { "not_owner", owner } | { "state", state } | { "expired" }
  { "acks", now ms, agent, … }                        acknowledgments outstanding
  { "lease", now ms, window resource, held, lease JSON }  another agent's lease overlaps
]]
local refused, stamp, now, w, json = owned_window()
if refused then return refused end
if w.state ~= 'pending' then return { 'state', w.state } end
if now >= w.ack_deadline then return { 'expired' } end

local blockers, first = {}, nil
for _, r in ipairs(w.resources) do
  for _, hit in ipairs(lease_overlaps(r, now)) do
    if not same_session(hit[2], w.owner, w.session) then
      blockers[hit[2].owner] = true
      first = first or { 'lease', now, r, hit[1], hit[3] }
    end
  end
end
local acked, via, outstanding = {}, {}, { 'acks', now }
for _, agent in ipairs(w.acknowledged) do acked[agent] = true end
for _, agent in ipairs(w.via_lease) do via[agent] = true end
for _, agent in ipairs(w.required) do
  if not acked[agent] and (not via[agent] or blockers[agent]) then
    outstanding[#outstanding + 1] = agent
  end
end
if #outstanding > 2 then return outstanding end
if first then return first end

w.state, w.expires_at = 'active', now + w.ttl_ms
json = window_json(w)
prune_windows(now)
redis.call('HSET', W.hash, w.id, json)
redis.call('ZADD', W.live, w.expires_at, w.id)
redis.call('ZADD', W.keep, w.expires_at + tonumber(ARGV[7]), w.id)
rearm({ W.hash, W.live, W.keep }, W.keep)
local audit_id = coord_audit('WINDOW_ACTIVATED', '', '', '{"schema_version":1,"window":' .. json .. '}', stamp)
return { 'ok', json, audit_id }
