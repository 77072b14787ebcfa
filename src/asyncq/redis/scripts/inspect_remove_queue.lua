-- Remove a queue and everything it owns: task records, containers, groups, aggregation
-- sets, the pause flag, counters and the uniqueness locks its tasks hold.
--
-- Without force the queue must hold no task that still has to run: pending, active,
-- scheduled, retry, archived and aggregating must all be empty (completed tasks may remain
-- and are removed). With force only active tasks prevent the removal.
--
-- KEYS[1] pending_key           asynq:{Q}:pending           list
-- KEYS[2] active_key            asynq:{Q}:active            list
-- KEYS[3] scheduled_key         asynq:{Q}:scheduled         zset
-- KEYS[4] retry_key             asynq:{Q}:retry             zset
-- KEYS[5] archived_key          asynq:{Q}:archived          zset
-- KEYS[6] lease_key             asynq:{Q}:lease             zset
-- KEYS[7] completed_key         asynq:{Q}:completed         zset
-- KEYS[8] groups_key            asynq:{Q}:groups            set of group names
-- KEYS[9] aggregation_sets_key  asynq:{Q}:aggregation_sets  zset of aggregation set keys
-- KEYS[10] paused_key            asynq:{Q}:paused            string
-- KEYS[11] processed_total_key   asynq:{Q}:processed         string counter (total)
-- KEYS[12] failed_total_key      asynq:{Q}:failed            string counter (total)
-- KEYS[...] daily_counter_keys  asynq:{Q}:processed:<date> and asynq:{Q}:failed:<date>,
--                               one pair per day that can still hold a counter
-- ARGV[1] force                 "1" to force, "0" otherwise
-- ARGV[2] task_key_prefix       task key prefix             asynq:{Q}:t:
-- ARGV[3] group_key_prefix      group key prefix            asynq:{Q}:g:
--
-- Returns 1 when removed, -1 when the queue is not empty (without force), -2 when it has
-- active tasks.
local force = ARGV[1] == "1"
local task_prefix = ARGV[2]
local group_prefix = ARGV[3]

local groups = redis.call("SMEMBERS", KEYS[8])
if redis.call("LLEN", KEYS[2]) > 0 then
    return -2
end
if not force then
    local waiting = redis.call("LLEN", KEYS[1]) + redis.call("ZCARD", KEYS[3])
        + redis.call("ZCARD", KEYS[4]) + redis.call("ZCARD", KEYS[5])
        + redis.call("SCARD", KEYS[8]) + redis.call("ZCARD", KEYS[9])
    if waiting > 0 then
        return -1
    end
end

local function delete_tasks(ids)
    for _, id in ipairs(ids) do
        delete_record(task_prefix .. id, id)
    end
end

delete_tasks(redis.call("LRANGE", KEYS[1], 0, -1))
for i = 3, 7 do
    delete_tasks(redis.call("ZRANGE", KEYS[i], 0, -1))
end
for _, group in ipairs(groups) do
    delete_tasks(redis.call("ZRANGE", group_prefix .. group, 0, -1))
    redis.call("DEL", group_prefix .. group)
end
for _, set_key in ipairs(redis.call("ZRANGE", KEYS[9], 0, -1)) do
    delete_tasks(redis.call("ZRANGE", set_key, 0, -1))
    redis.call("DEL", set_key)
end

for i = 1, #KEYS do
    redis.call("DEL", KEYS[i])
end
return 1
