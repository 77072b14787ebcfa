-- schedule_unique: store a task that becomes pending at a given time, under a uniqueness
-- lock, and register its queue. The lock is taken only when the task is stored.
--
-- KEYS[1] unique_key        asynq:{Q}:unique:<type>:<md5 of payload>
-- KEYS[2] task_key          asynq:{Q}:t:<ID>
-- KEYS[3] scheduled_key     asynq:{Q}:scheduled
-- KEYS[4] queues_key        asynq:queues
-- ARGV[1] task_id           <ID>, the value of the lock
-- ARGV[2] lock_ttl          lock lifetime in whole seconds (the wait plus the unique TTL)
-- ARGV[3] process_at        Unix seconds, the score in the scheduled set
-- ARGV[4] msg               encoded TaskMessage
-- ARGV[5] queue             Q, added to asynq:queues
-- ARGV[6] group             group name, or "" for none
--
-- Returns 1 when the task was stored; -1 when the lock is held; 0 when the task ID is
-- taken. Nothing is written unless 1 is returned.
local unique_key, task_key, scheduled_key, queues_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local task_id, lock_ttl, process_at, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local queue, group = ARGV[5], ARGV[6]

if redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("SET", unique_key, task_id, "EX", lock_ttl)
redis.call("HSET", task_key, "msg", msg, "state", "scheduled", "unique_key", unique_key)
if group ~= "" then
    redis.call("HSET", task_key, "group", group)
end
redis.call("ZADD", scheduled_key, process_at, task_id)
redis.call("SADD", queues_key, queue)
return 1
