-- sse-fcgi resume: one page of what reconnecting clients missed, for a
-- batch of reads (channel, after id) in one consistent snapshot. Run by the
-- worker, which gathers the streams resuming at once into one call and
-- reads each (channel, id) once for all of them.
--   KEYS[1]    the id clock (<prefix>clock)
--   KEYS[i]    (i >= 2) the history stream of read i
--   ARGV[1]    at most this many entries per read
--   ARGV[2i-2] read i's last event id ("MS-SEQ"): entries after it; or
--              "~N": its last N entries (initial events), that is the
--              entries after the one before them (0-0 when there are at
--              most N); "~N:MS-SEQ" starts after that id instead when it
--              is older (the caller holds live events from there on)
--   ARGV[2i-1] read i's byte budget: it stops before the entry that takes
--              its data past the budget (one entry at least)
-- Returns { clock_seq, { exists, max_deleted_id, more, entries, start },
-- ..., clock_ms }, one read per KEYS after the first, in order; start is
-- the id the read started after (for "~N", the one it found); more is 1 when
-- the read stopped at the count or the budget (there may be more after its
-- last entry). clock_seq and clock_ms form the id of the last event
-- published: a poll with no id of its own starts there.
local clock = tonumber(redis.call('HGET', KEYS[1], 'seq')) or 0
local clock_ms = tonumber(redis.call('HGET', KEYS[1], 'ms')) or 0
local max = tonumber(ARGV[1])
local function seq_of(id)
  return tonumber(string.match(id, '%-(%d+)$')) or 0
end
-- The id before the last N entries of KEY, or '0-0': read newest first
-- in chunks of 100 entries, so a large N holds one chunk at a time.
local function before_last(key, n)
  local from, seen = '+', 0
  while true do
    local want = math.min(n + 1 - seen, 100)
    local got = redis.call('XREVRANGE', key, from, '-', 'COUNT', want)
    seen = seen + #got
    if seen == n + 1 then return got[#got][1] end
    if #got < want then return '0-0' end
    from = '(' .. got[#got][1]
  end
end
local out = { clock }
for i = 2, #KEYS do
  local after = ARGV[2 * i - 2]
  local budget = tonumber(ARGV[2 * i - 1])
  local last = string.match(after, '^~(%d+)')
  if last then
    local bound = string.match(after, '^~%d+:(%d+%-%d+)$')
    after = before_last(KEYS[i], tonumber(last))
    if bound and seq_of(bound) < seq_of(after) then after = bound end
  end
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[i] = { 0, '0-0', 0, {}, after }
  else
    local info = redis.call('XINFO', 'STREAM', KEYS[i])
    local maxdel = '0-0'
    for j = 1, #info, 2 do
      if info[j] == 'max-deleted-entry-id' then maxdel = info[j + 1] end
    end
    -- An id from the future is not ours: replay all that is retained.
    local start = '(' .. after
    if seq_of(after) > clock then
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
    out[i] = { 1, maxdel, more, ents, after }
  end
end
out[#KEYS + 1] = clock_ms
return out
