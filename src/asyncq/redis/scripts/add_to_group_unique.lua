-- add_to_group_unique: store a task that waits in a group for aggregation, under a
-- uniqueness lock, and register its queue. As in asynq the hash gets no unique_key field.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] group_key         asynq:{Q}:g:<G>
-- KEYS[3] groups_key        asynq:{Q}:groups
-- KEYS[4] unique_key        asynq:{Q}:unique:<type>:<md5 of payload>
-- KEYS[5] queues_key        asynq:queues
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] task_id           <ID>, also the value of the lock
-- ARGV[3] now               Unix seconds, the score in the group
-- ARGV[4] group             G
-- ARGV[5] lock_ttl          lock lifetime in whole seconds
-- ARGV[6] queue             Q, added to asynq:queues
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local task_key, group_key, groups_key, unique_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local queues_key = KEYS[5]
local msg, task_id, now, group, lock_ttl, queue = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
    ARGV[6]

if redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("SET", unique_key, task_id, "EX", lock_ttl)
redis.call("HSET", task_key, "msg", msg, "state", "aggregating", "group", group)
redis.call("ZADD", group_key, now, task_id)
redis.call("SADD", groups_key, group)
redis.call("SADD", queues_key, queue)
return 1
