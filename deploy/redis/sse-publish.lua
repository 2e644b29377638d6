-- sse-fcgi publish script: appends an event to its channel's history and
-- announces it to every worker, in one atomic step, under an id that is
-- ordered across all channels that share the clock. Use it from any
-- language with EVAL/EVALSHA; sse-publish and the HTTP publish endpoint run
-- this same script.
--
--   KEYS[1]  the channel's history stream: <prefix>history:<channel>
--   KEYS[2]  the id clock: <prefix>clock, one for the deployment
--            (prefix "sse:" unless sse-fcgi is configured otherwise)
--   ARGV[1]  channel name ([A-Za-z0-9._:-], 1 to 200 bytes)
--   ARGV[2]  event name, or "" for a plain message (at most 255 bytes,
--            no CR, LF or NUL)
--   ARGV[3]  history length to keep (0: no history for this message)
--   ARGV[4]  history age to keep in milliseconds (0: no age limit)
--   ARGV[5]  data: any bytes (last, so `redis-cli -x` can read it from
--            standard input)
--   ARGV[6]  optional: "spublish" announces with SPUBLISH (a shard
--            channel) instead of PUBLISH; anything else is an error.
-- On a Redis Cluster a script may only touch keys of one slot, so there
-- the keys carry the channel as their hash tag and each channel has its
-- own clock, in the slot SPUBLISH uses for the channel:
--   KEYS[1]  <prefix>history:{<channel>}
--   KEYS[2]  <prefix>clock:{<channel>}
--   ARGV[6]  "spublish"
-- Ids then increase per channel, not across channels. A channel outside
-- the keys' slot makes SPUBLISH fail after the history was written.
-- Returns { id, receivers }: the event id ("MS-SEQ") and how many workers
-- received it (with SPUBLISH: subscribers on the node that ran it).
-- Examples:
--   redis-cli EVAL "$(cat sse-publish.lua)" 2 sse:history:project.123 \
--       sse:clock project.123 '' 1000 86400000 '{"type":"notification"}'
--   redis-cli -c EVAL "$(cat sse-publish.lua)" 2 \
--       'sse:history:{project.123}' 'sse:clock:{project.123}' \
--       project.123 '' 1000 86400000 '{"type":"notification"}' spublish
if (#ARGV ~= 5 and #ARGV ~= 6) or #KEYS ~= 2 then
  return redis.error_reply('ERR expected 2 keys and 5 or 6 arguments')
end
local announce = 'PUBLISH'
if #ARGV == 6 then
  if ARGV[6] ~= 'spublish' then
    return redis.error_reply('ERR ARGV[6] must be "spublish" or absent')
  end
  announce = 'SPUBLISH'
end
local channel, event, data = ARGV[1], ARGV[2], ARGV[5]
local maxlen, maxage = tonumber(ARGV[3]), tonumber(ARGV[4])
if not maxlen or not maxage or maxlen < 0 or maxage < 0 then
  return redis.error_reply('ERR maxlen and maxage must be numbers >= 0')
end
if #channel == 0 or #channel > 200 or
    not string.match(channel, '^[%w%._:%-]+$') then
  return redis.error_reply('ERR bad channel name')
end
if #event > 255 or string.find(event, '[%z\r\n]') then
  return redis.error_reply('ERR event name: at most 255 bytes, no CR, LF, NUL')
end
-- The id: the time (never going back) and the clock's sequence.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'ms')) or 0)
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'ms', string.format('%d', ms))
local id = string.format('%d-%d', ms, seq)
-- History: trimmed with XDEL rather than MAXLEN/MINID, because XDEL
-- records the newest deleted id (max-deleted-entry-id), which is how a
-- resuming client learns that events after its id are gone.
local function drop(entries)
  for i = 1, #entries, 500 do
    local ids = {}
    for j = i, math.min(i + 499, #entries) do ids[#ids + 1] = entries[j][1] end
    redis.call('XDEL', KEYS[1], unpack(ids))
  end
end
if maxlen > 0 then
  redis.call('XADD', KEYS[1], id, 'd', data, 'e', event)
  local excess = redis.call('XLEN', KEYS[1]) - maxlen
  if excess > 0 then
    drop(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess))
  end
  if maxage > 0 then
    drop(redis.call('XRANGE', KEYS[1], '-',
        string.format('(%d', now - maxage), 'COUNT', 10000))
    redis.call('PEXPIRE', KEYS[1], maxage)
  end
end
local n = redis.call(announce, channel,
    '\0sse1\0' .. id .. '\0' .. event .. '\0' .. data)
return { id, n }
