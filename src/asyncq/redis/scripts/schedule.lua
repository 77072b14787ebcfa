-- schedule: store a task that becomes pending at process_at (under a uniqueness lock when
-- unique_key is given) and register its queue. A grouped task keeps its group in the hash,
-- so that it is aggregated once it is due. The lock is taken only when the task is stored.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] scheduled_key     asynq:{Q}:scheduled
-- KEYS[3] queues_key        asynq:queues
--                           On Redis Cluster, where it lives in another slot, KEYS[1]
--                           again: the caller registers the queue itself.
-- KEYS[...] unique_key      only for a unique task: asynq:{Q}:unique:<type>:<md5 of payload>
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] process_at        Unix seconds, the score in the scheduled set
-- ARGV[3] task_id           <ID>, also the value of the lock
-- ARGV[4] queue             Q, added to asynq:queues
-- ARGV[5] group             group name, or "" for none
-- ARGV[6] lock_ttl          lock lifetime in whole seconds, the wait plus the unique TTL
--                           (unused without unique_key)
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local task_key, scheduled_key, queues_key, unique_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local msg, process_at, task_id, queue = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local group, lock_ttl = ARGV[5], ARGV[6]

if unique_key and redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "scheduled")
if unique_key then
    redis.call("SET", unique_key, task_id, "EX", lock_ttl)
    redis.call("HSET", task_key, "unique_key", unique_key)
end
if group ~= "" then
    redis.call("HSET", task_key, "group", group)
end
redis.call("ZADD", scheduled_key, process_at, task_id)
if queues_key ~= KEYS[1] then
    redis.call("SADD", queues_key, queue)
end
return 1
