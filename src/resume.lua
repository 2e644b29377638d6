-- sse-fcgi resume: one page of what reconnecting clients missed, for a
-- batch of reads (channel, after id) in one consistent snapshot. Run by the
-- worker, which gathers the streams resuming at once into one call and
-- reads each (channel, id) once for all of them.
--   KEYS[1]    the id clock (<prefix>clock)
--   KEYS[i]    (i >= 2) the history stream of read i
--   ARGV[1]    at most this many entries per read
--   ARGV[2i-2] read i's last event id ("MS-SEQ"): entries after it
--   ARGV[2i-1] read i's byte budget: it stops before the entry that takes
--              its data past the budget (one entry at least)
-- Returns { clock_seq, { exists, max_deleted_id, more, entries }, ...,
-- clock_ms }, one read per KEYS after the first, in order; more is 1 when
-- the read stopped at the count or the budget (there may be more after its
-- last entry). clock_seq and clock_ms form the id of the last event
-- published: a poll with no id of its own starts there.
local clock = tonumber(redis.call('HGET', KEYS[1], 'seq')) or 0
local clock_ms = tonumber(redis.call('HGET', KEYS[1], 'ms')) or 0
local max = tonumber(ARGV[1])
local out = { clock }
for i = 2, #KEYS do
  local after = ARGV[2 * i - 2]
  local budget = tonumber(ARGV[2 * i - 1])
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[i] = { 0, '0-0', 0, {} }
  else
    local info = redis.call('XINFO', 'STREAM', KEYS[i])
    local maxdel = '0-0'
    for j = 1, #info, 2 do
      if info[j] == 'max-deleted-entry-id' then maxdel = info[j + 1] end
    end
    -- An id from the future is not ours: replay all that is retained.
    local start = '(' .. after
    if (tonumber(string.match(after, '%-(%d+)$')) or 0) > clock then
      start = '-'
    end
    -- Read in growing chunks so a small budget reads little.
    local ents, used, more, chunk = {}, 0, 0, 8
    while true do
      local want = math.min(chunk, max - #ents)
      local got = redis.call('XRANGE', KEYS[i], start, '+', 'COUNT', want)
      local cut = false
      for j = 1, #got do
        local size, f = 0, got[j][2]
        for k = 2, #f, 2 do size = size + #f[k] end
        if #ents > 0 and used + size > budget then
          cut = true
          break
        end
        ents[#ents + 1] = got[j]
        used = used + size
      end
      if cut or (#got == want and #ents >= max) then
        more = 1
        break
      end
      if #got < want then break end
      start = '(' .. got[#got][1]
      chunk = chunk * 2
    end
    out[i] = { 1, maxdel, more, ents }
  end
end
out[#KEYS + 1] = clock_ms
return out
