-- add_to_group: store a task that waits in a group for aggregation, and register its queue.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] group_key         asynq:{Q}:g:<G>
-- KEYS[3] groups_key        asynq:{Q}:groups
-- KEYS[4] queues_key        asynq:queues
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] task_id           <ID>
-- ARGV[3] now               Unix seconds, the score in the group
-- ARGV[4] group             G
-- ARGV[5] queue             Q, added to asynq:queues
--
-- Returns 1 when the task was stored; 0 when the task ID is taken (nothing is written).
local task_key, group_key, groups_key, queues_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local msg, task_id, now, group, queue = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "aggregating", "group", group)
redis.call("ZADD", group_key, now, task_id)
redis.call("SADD", groups_key, group)
redis.call("SADD", queues_key, queue)
return 1
