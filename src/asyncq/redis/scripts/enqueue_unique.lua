-- enqueue_unique: store one pending task under a uniqueness lock, register its queue and
-- wake idle workers. The lock is taken only when the task is stored.
--
-- KEYS[1] unique_key        asynq:{Q}:unique:<type>:<md5 of payload>
-- KEYS[2] task_key          asynq:{Q}:t:<ID>
-- KEYS[3] pending_key       asynq:{Q}:pending
-- KEYS[4] queues_key        asynq:queues
-- ARGV[1] task_id           <ID>, the value of the lock
-- ARGV[2] lock_ttl          lock lifetime in whole seconds
-- ARGV[3] msg               encoded TaskMessage
-- ARGV[4] now_ns            Unix nanoseconds, stored as pending_since
-- ARGV[5] queue             Q, added to asynq:queues and published
-- ARGV[6] wakeup_channel    pub/sub channel that idle workers listen on
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local unique_key, task_key, pending_key, queues_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local task_id, lock_ttl, msg, now_ns = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local queue, wakeup_channel = ARGV[5], ARGV[6]

if redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("SET", unique_key, task_id, "EX", lock_ttl)
redis.call("HSET", task_key, "msg", msg, "state", "pending", "pending_since", now_ns,
    "unique_key", unique_key)
redis.call("LPUSH", pending_key, task_id)
redis.call("SADD", queues_key, queue)
redis.call("PUBLISH", wakeup_channel, queue)
return 1
