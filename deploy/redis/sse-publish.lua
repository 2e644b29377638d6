-- sse-fcgi publish script: appends an event to its channel's history and
-- announces it to every worker, in one atomic step, under an id that is
-- ordered across all channels. Use it from any language with EVAL/EVALSHA;
-- sse-publish and the HTTP publish endpoint run this same script.
--
--   KEYS[1]  the channel's history stream: <prefix>history:<channel>
--   KEYS[2]  the id clock of the deployment: <prefix>clock
--            (prefix "sse:" unless sse-fcgi is configured otherwise)
--   ARGV[1]  channel name ([A-Za-z0-9._:-], 1 to 200 bytes)
--   ARGV[2]  data: any bytes
--   ARGV[3]  event name, or "" for a plain message (no CR, LF or NUL)
--   ARGV[4]  history length to keep (0: no history for this message)
--   ARGV[5]  history age to keep in milliseconds (0: no age limit)
-- Returns { id, receivers }: the event id ("MS-SEQ") and how many workers
-- received it. Example:
--   redis-cli EVAL "$(cat sse-publish.lua)" 2 sse:history:project.123 sse:clock \
--       project.123 '{"type":"notification"}' '' 1000 86400000
local channel, data, event = ARGV[1], ARGV[2], ARGV[3]
local maxlen, maxage = tonumber(ARGV[4]), tonumber(ARGV[5])
if not maxlen or not maxage or maxlen < 0 or maxage < 0 then
  return redis.error_reply('ERR maxlen and maxage must be numbers >= 0')
end
if #channel == 0 or #channel > 200 or
    not string.match(channel, '^[%w%._:%-]+$') then
  return redis.error_reply('ERR bad channel name')
end
if #event > 255 or string.find(event, '[%z\r\n]') then
  return redis.error_reply('ERR event name longer than 255 bytes or contains CR, LF or NUL')
end
-- The id: the time (never going back) and the deployment-wide sequence.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'ms')) or 0)
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'ms', string.format('%d', ms))
local id = string.format('%d-%d', ms, seq)
if maxlen > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, id, 'd', data, 'e', event)
  if maxage > 0 then
    redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', now - maxage))
    redis.call('PEXPIRE', KEYS[1], maxage)
  end
end
local n = redis.call('PUBLISH', channel,
    '\0sse1\0' .. id .. '\0' .. event .. '\0' .. data)
return { id, n }
