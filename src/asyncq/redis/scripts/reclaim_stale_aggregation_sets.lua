-- reclaim_stale_aggregation_sets: return the tasks of every aggregation set whose deadline
-- has passed to their group, and list the group in groups again.
--
-- KEYS[1] aggregation_sets_key    asynq:{Q}:aggregation_sets
-- KEYS[2] groups_key              asynq:{Q}:groups
-- ARGV[1] now                     Unix seconds
-- ARGV[2] group_key_prefix        asynq:{Q}:g:
--
-- Returns the number of sets reclaimed.
local aggregation_sets_key, groups_key = KEYS[1], KEYS[2]
local now, group_key_prefix = ARGV[1], ARGV[2]

local stale = redis.call("ZRANGE", aggregation_sets_key, "-inf", now, "BYSCORE")
for _, set_key in ipairs(stale) do
    local group_key = string.match(set_key, "^(.*):[^:]*$")
    local members = redis.call("ZRANGE", set_key, 0, -1, "WITHSCORES")
    for i = 1, #members, 2 do
        redis.call("ZADD", group_key, members[i + 1], members[i])
    end
    if #members > 0 then
        redis.call("SADD", groups_key, string.sub(group_key, #group_key_prefix + 1))
    end
    redis.call("DEL", set_key)
end
redis.call("ZREMRANGEBYSCORE", aggregation_sets_key, "-inf", now)
return #stale
