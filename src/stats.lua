-- sse-fcgi - MIT License
--
-- One worker's stats report in a Redis Cluster (src/stats.c), doing what
-- the MULTI/EXEC does with one Redis. KEYS: the report hash, the channel
-- hash and the index of workers, all in the {stats} slot. ARGV: the
-- expiry in seconds, the worker's ID, the count N of the report's field
-- and value arguments that follow, then the channels' names and
-- subscriber counts (none when the worker has no channel).
local n = tonumber(ARGV[3])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + n))
if #ARGV > 3 + n then
	redis.call('HSET', KEYS[2], unpack(ARGV, 4 + n, #ARGV))
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
