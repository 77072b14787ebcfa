-- Read the counts and counters that describe one queue, in one atomic snapshot.
--
-- KEYS[1] pending_key           asynq:{Q}:pending            list
-- KEYS[2] active_key            asynq:{Q}:active             list
-- KEYS[3] scheduled_key         asynq:{Q}:scheduled          zset
-- KEYS[4] retry_key             asynq:{Q}:retry              zset
-- KEYS[5] archived_key          asynq:{Q}:archived           zset
-- KEYS[6] completed_key         asynq:{Q}:completed          zset
-- KEYS[7] processed_today_key   asynq:{Q}:processed:<today>  string counter
-- KEYS[8] failed_today_key      asynq:{Q}:failed:<today>     string counter
-- KEYS[9] processed_total_key   asynq:{Q}:processed          string counter (total)
-- KEYS[10] failed_total_key      asynq:{Q}:failed             string counter (total)
-- KEYS[11] paused_key           asynq:{Q}:paused  string, present while the queue is paused
-- KEYS[12] groups_key            asynq:{Q}:groups             set of group names
-- ARGV[1] group_key_prefix      group key prefix             asynq:{Q}:g:
-- ARGV[2] task_key_prefix       task key prefix              asynq:{Q}:t:
--
-- Returns an array of 14 values, in this order: pending, active, scheduled, retry,
-- archived, completed, processed today, failed today, processed total, failed total,
-- paused (0/1), pending_since of the oldest pending task in Unix ns (0 when unknown),
-- number of groups, number of aggregating tasks.
local group_prefix = ARGV[1]
local task_prefix = ARGV[2]

local function counter(key)
    return tonumber(redis.call("GET", key)) or 0
end

local function oldest_pending_since()
    local oldest = redis.call("LRANGE", KEYS[1], -1, -1)[1]
    if not oldest then
        return 0
    end
    return redis.call("HGET", task_prefix .. oldest, "pending_since") or 0
end

local groups = redis.call("SMEMBERS", KEYS[12])
local aggregating = 0
for _, group in ipairs(groups) do
    aggregating = aggregating + redis.call("ZCARD", group_prefix .. group)
end

return {
    redis.call("LLEN", KEYS[1]),
    redis.call("LLEN", KEYS[2]),
    redis.call("ZCARD", KEYS[3]),
    redis.call("ZCARD", KEYS[4]),
    redis.call("ZCARD", KEYS[5]),
    redis.call("ZCARD", KEYS[6]),
    counter(KEYS[7]),
    counter(KEYS[8]),
    counter(KEYS[9]),
    counter(KEYS[10]),
    redis.call("EXISTS", KEYS[11]),
    oldest_pending_since(),
    #groups,
    aggregating,
}
