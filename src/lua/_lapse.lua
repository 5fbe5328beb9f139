--[[
_lapse — lapse notices, prepended (after _lib.lua) to the scripts that observe
lapses (claim.lua, sweep_lapses.lua); not a script of its own. Each writes one
event addressed to the former owner, as the room itself (agent "agentroom"),
and copies it into the former owner's inbox, in the caller's atomic step; the
caller removes the lapsed record in the same step, so every lapse yields
exactly one notice.

claim_lapse_notice(task id, owner, inbox, recipients, stamp, room ttl, maxlen, inbox maxlen, inbox ttl)
    CLAIM_LAPSED; drops the claim index and claim-owner entries (KEYS[6], KEYS[8] of
    the task scripts, passed as claims and owners)
lapse_notice(type, owner, reply_to, payload JSON, inbox, recipients, stamp, room ttl, maxlen,
             inbox maxlen, inbox ttl)
    the event and its inbox copy; returns the event id
]]
local function lapse_notice(event_type, owner, reply_to, payload, inbox, recipients, stamp,
                            room_ttl, maxlen, inbox_maxlen, inbox_ttl)
  local fields = { 'type', event_type, 'agent_id', 'agentroom', 'agent_handle', 'agentroom',
    'session_id', '', 'to', owner, 'reply_to', reply_to, 'payload', payload }
  local id = audit(fields, room_ttl, maxlen, stamp)
  deliver(inbox, recipients, owner, id, fields, stamp, inbox_maxlen, inbox_ttl)
  return id
end

local function claim_lapse_notice(task_id, owner, inbox, recipients, stamp, room_ttl, maxlen,
                                  inbox_maxlen, inbox_ttl, claims, owners)
  claims = claims or KEYS[6]
  owners = owners or KEYS[8]
  local expired_at = redis.call('ZSCORE', claims, task_id)
  redis.call('ZREM', claims, task_id)
  redis.call('HDEL', owners, task_id)
  local payload = cjson.encode({ schema_version = 1, task_id = task_id,
    task_type = event_type(task_id) or '', owner = owner,
    expired_at = tonumber(expired_at or '0') })
  return lapse_notice('CLAIM_LAPSED', owner, task_id, payload, inbox, recipients, stamp,
    room_ttl, maxlen, inbox_maxlen, inbox_ttl)
end
