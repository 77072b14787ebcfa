-- enqueue: store one pending task (under a uniqueness lock when unique_key is given),
-- register its queue and wake idle workers. The lock is taken only when the task is stored.
-- Workers are woken only when the pending list was empty: while it holds tasks, every
-- worker with a free slot is already leasing from it, and busy ones lease again as soon
-- as a slot frees, so a message per task would only cost them decoding.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] pending_key       asynq:{Q}:pending
-- KEYS[3] queues_key        asynq:queues
--                           On Redis Cluster, where it lives in another slot, KEYS[1]
--                           again: the caller registers the queue itself.
-- KEYS[...] unique_key      only for a unique task: asynq:{Q}:unique:<type>:<md5 of payload>
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] task_id           <ID>, also the value of the lock
-- ARGV[3] now_ns            Unix nanoseconds, stored as pending_since
-- ARGV[4] queue             Q, added to asynq:queues and published
-- ARGV[5] wakeup_channel    pub/sub channel that idle workers listen on (published to
--                           only when the task lands in an empty pending list)
-- ARGV[6] lock_ttl          lock lifetime in whole seconds (unused without unique_key)
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local task_key, pending_key, queues_key, unique_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local msg, task_id, now_ns, queue = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local wakeup_channel, lock_ttl = ARGV[5], ARGV[6]

if unique_key and redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "pending", "pending_since", now_ns)
if unique_key then
    redis.call("SET", unique_key, task_id, "EX", lock_ttl)
    redis.call("HSET", task_key, "unique_key", unique_key)
end
local length = redis.call("LPUSH", pending_key, task_id)
if queues_key ~= KEYS[1] then
    redis.call("SADD", queues_key, queue)
end
if length == 1 then
    redis.call("PUBLISH", wakeup_channel, queue)
end
return 1
