-- sse-fcgi resume: one consistent snapshot of what a reconnecting client
-- missed, for all the channels of its stream (run by the worker).
--   KEYS[1]   the id clock (<prefix>clock)
--   KEYS[2..] the history stream of each channel
--   ARGV[1]   the client's last event id ("MS-SEQ")
--   ARGV[2]   at most this many entries per channel
-- Returns { clock_seq, { exists, max_deleted_id, entries }, ... }
local clock = tonumber(redis.call('HGET', KEYS[1], 'seq')) or 0
local out = { clock }
-- An id from the future is not ours: replay all that is retained.
local start = '(' .. ARGV[1]
if (tonumber(string.match(ARGV[1], '%-(%d+)$')) or 0) > clock then
  start = '-'
end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[i] = { 0, '0-0', {} }
  else
    local info = redis.call('XINFO', 'STREAM', KEYS[i])
    local maxdel = '0-0'
    for j = 1, #info, 2 do
      if info[j] == 'max-deleted-entry-id' then maxdel = info[j + 1] end
    end
    out[i] = { 1, maxdel, redis.call('XRANGE', KEYS[i], start, '+',
        'COUNT', ARGV[2]) }
  end
end
return out
