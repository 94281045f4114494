-- The sliding-window counter of ratelimit/window.go, for Redis; change both together.
-- KEYS[1]: the key's hash. ARGV[1]: n. ARGV[2]: per in milliseconds.
-- ARGV[3]: the key's time to live in milliseconds.
-- Returns {allowed (0 or 1), remaining, milliseconds until a unit frees}.
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local per = tonumber(ARGV[2])

local h = redis.call('HMGET', KEYS[1], 'start', 'per', 'cur', 'prev')
local start, cur, prev = now, 0, 0
if h[1] and tonumber(h[2]) == per then
  start, cur, prev = tonumber(h[1]), tonumber(h[3]), tonumber(h[4])
end
if now < start then
  now = start
end
local k = math.floor((now - start) / per)
if k == 1 then
  prev, cur, start = cur, 0, start + per
elseif k >= 2 then
  prev, cur, start = 0, 0, start + k * per
end

local e = now - start
local left = (n - cur - 1) * per - prev * (per - e)
if left >= 0 then
  cur = cur + 1
  redis.call('HSET', KEYS[1], 'start', string.format('%.0f', start), 'per', string.format('%.0f', per),
    'cur', string.format('%.0f', cur), 'prev', string.format('%.0f', prev))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, math.floor(left / per), 0}
end
if cur + 1 <= n then
  local need = per - math.floor((n - cur - 1) * per / prev)
  return {0, 0, need - e}
end
local need = per - math.floor((n - 1) * per / cur)
return {0, 0, per - e + need}
