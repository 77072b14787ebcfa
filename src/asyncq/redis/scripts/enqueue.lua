-- enqueue: store one pending task, register its queue and wake idle workers.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] pending_key       asynq:{Q}:pending
-- KEYS[3] queues_key        asynq:queues
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] task_id           <ID>
-- ARGV[3] now_ns            Unix nanoseconds, stored as pending_since
-- ARGV[4] queue             Q, added to asynq:queues and published
-- ARGV[5] wakeup_channel    pub/sub channel that idle workers listen on
--
-- Returns 1 when the task was stored; 0 when the task ID is taken (nothing is written).
local task_key, pending_key, queues_key = KEYS[1], KEYS[2], KEYS[3]
local msg, task_id, now_ns, queue, wakeup_channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "pending", "pending_since", now_ns)
redis.call("LPUSH", pending_key, task_id)
redis.call("SADD", queues_key, queue)
redis.call("PUBLISH", wakeup_channel, queue)
return 1
