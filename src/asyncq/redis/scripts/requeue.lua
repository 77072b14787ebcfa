-- requeue: put an unfinished active task back at the front of its queue (the right end of
-- pending, dequeued next), mark it pending since now and wake idle workers. Counts nothing.
--
-- KEYS[1] active_key        asynq:{Q}:active
-- KEYS[2] lease_key         asynq:{Q}:lease
-- KEYS[3] pending_key       asynq:{Q}:pending
-- KEYS[4] task_key          asynq:{Q}:t:<ID>
-- ARGV[1] task_id           <ID>
-- ARGV[2] now_ns            Unix nanoseconds, stored as pending_since
-- ARGV[3] queue             Q, published
-- ARGV[4] wakeup_channel    pub/sub channel that idle workers listen on
--
-- Returns 1 when requeued; 0 when the task is not active or its hash is gone (nothing written).
local active_key, lease_key, pending_key, task_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local task_id, now_ns, queue, wakeup_channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
    return 0
end

release(active_key, lease_key, task_id)
redis.call("RPUSH", pending_key, task_id)
redis.call("HSET", task_key, "state", "pending", "pending_since", now_ns)
redis.call("PUBLISH", wakeup_channel, queue)
return 1
