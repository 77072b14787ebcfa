-- aggregation_check: when a group is ready, move its tasks into a new aggregation set.
-- A group is ready when it holds max_size tasks, when its oldest task waited max_delay, or
-- when no task joined it for grace_period. At most max_size tasks move (all when 0); the
-- group leaves the groups set when it is emptied.
--
-- KEYS[1] group_key               asynq:{Q}:g:<G>
-- KEYS[2] set_key                 asynq:{Q}:g:<G>:<set ID>
-- KEYS[3] aggregation_sets_key    asynq:{Q}:aggregation_sets
-- KEYS[4] groups_key              asynq:{Q}:groups
-- ARGV[1] max_size                0 for no limit
-- ARGV[2] max_delay               seconds, 0 for no limit
-- ARGV[3] grace_period            seconds
-- ARGV[4] set_deadline            Unix seconds after which the set is reclaimed
-- ARGV[5] now                     Unix seconds
-- ARGV[6] group                   G
--
-- Returns 1 when a set was created; 0 when the group is not ready (nothing written).
local group_key, set_key, aggregation_sets_key, groups_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local max_size, max_delay = tonumber(ARGV[1]), tonumber(ARGV[2])
local grace_period, set_deadline = tonumber(ARGV[3]), ARGV[4]
local now, group = tonumber(ARGV[5]), ARGV[6]

local size = redis.call("ZCARD", group_key)
if size == 0 then
    return 0
end

local function oldest_score()
    return tonumber(redis.call("ZRANGE", group_key, 0, 0, "WITHSCORES")[2])
end

local function newest_score()
    return tonumber(redis.call("ZRANGE", group_key, -1, -1, "WITHSCORES")[2])
end

local ready = (max_size ~= 0 and size >= max_size)
    or (max_delay ~= 0 and oldest_score() <= now - max_delay)
    or newest_score() <= now - grace_period
if not ready then
    return 0
end

local last = max_size == 0 and -1 or max_size - 1
local members = redis.call("ZRANGE", group_key, 0, last, "WITHSCORES")
for i = 1, #members, 2 do
    redis.call("ZADD", set_key, members[i + 1], members[i])
end
redis.call("ZREMRANGEBYRANK", group_key, 0, last)
redis.call("ZADD", aggregation_sets_key, set_deadline, set_key)
if redis.call("EXISTS", group_key) == 0 then
    redis.call("SREM", groups_key, group)
end
return 1
