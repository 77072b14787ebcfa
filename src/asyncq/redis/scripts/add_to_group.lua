-- add_to_group: store a task that waits in a group for aggregation (under a uniqueness
-- lock when unique_key is given) and register its queue. The lock is taken only when the
-- task is stored. Unlike asynq, the hash of a unique grouped task gets the unique_key field,
-- as every other unique task's hash does, so deleting the task releases its lock (asynq's
-- inspector too) and so does the aggregation that consumes it.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] group_key         asynq:{Q}:g:<G>
-- KEYS[3] groups_key        asynq:{Q}:groups
-- KEYS[4] queues_key        asynq:queues
--                           On Redis Cluster, where it lives in another slot, KEYS[1]
--                           again: the caller registers the queue itself.
-- KEYS[...] unique_key      only for a unique task: asynq:{Q}:unique:<type>:<md5 of payload>
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] task_id           <ID>, also the value of the lock
-- ARGV[3] now               Unix seconds, the score in the group
-- ARGV[4] group             G
-- ARGV[5] queue             Q, added to asynq:queues
-- ARGV[6] lock_ttl          lock lifetime in whole seconds (unused without unique_key)
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local task_key, group_key, groups_key, queues_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local unique_key = KEYS[5]
local msg, task_id, now, group, queue, lock_ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
    ARGV[6]

if unique_key and redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "aggregating", "group", group)
if unique_key then
    redis.call("SET", unique_key, task_id, "EX", lock_ttl)
    redis.call("HSET", task_key, "unique_key", unique_key)
end
redis.call("ZADD", group_key, now, task_id)
redis.call("SADD", groups_key, group)
if queues_key ~= KEYS[1] then
    redis.call("SADD", queues_key, queue)
end
return 1
