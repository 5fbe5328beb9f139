--[[
guard — read-only lookup behind guardResources(): the live leases and live
quiet windows overlapping the requested resources, and the named lease, all
at one instant of Redis server time. The decision table lives in src/guard.ts;
this script writes nothing. For each requested resource it stops at the first
lease of another session (that is the answer for that resource), so guarding a
directory above many leases stays cheap; every requested resource is looked up,
so a multi-file edit learns every conflicting path.

KEYS[1…11] room core keys, then the coordination keys (see _coord.lua)
ARGV[1]    the caller's agent id
ARGV[2]    the lease the caller acts under ("" = none)
ARGV[3]    the caller's session token ("" = none): its records are the caller's too
ARGV[4…]   requested resources, normalised and sorted

Returns { now ms, { requested, held, lease JSON, … }, { requested, held, window JSON, … },
          named lease JSON or "" }.
]]
local now = tonumber(now_text())
local leases, windows = {}, {}
local live = live_windows(now)
for i = 4, #ARGV do
  local r = ARGV[i]
  each_overlap(r, now, function(held, lease, json)
    leases[#leases + 1] = r
    leases[#leases + 1] = held
    leases[#leases + 1] = json
    return not same_session(lease, ARGV[1], ARGV[3])
  end)
  for _, w in ipairs(live) do
    for _, held in ipairs(w.resources) do
      if overlaps(held, r) then
        windows[#windows + 1] = r
        windows[#windows + 1] = held
        windows[#windows + 1] = window_json(w)
      end
    end
  end
end
local named = ''
if ARGV[2] ~= '' then
  local _, json = live_lease(ARGV[2], now)
  named = json or ''
end
return { now, leases, windows, named }
