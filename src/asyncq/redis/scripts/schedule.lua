-- schedule: store a task that becomes pending at a given time, and register its queue.
-- A grouped task keeps its group in the hash, so that it is aggregated once it is due.
--
-- KEYS[1] task_key          asynq:{Q}:t:<ID>
-- KEYS[2] scheduled_key     asynq:{Q}:scheduled
-- KEYS[3] queues_key        asynq:queues
-- ARGV[1] msg               encoded TaskMessage
-- ARGV[2] process_at        Unix seconds, the score in the scheduled set
-- ARGV[3] task_id           <ID>
-- ARGV[4] queue             Q, added to asynq:queues
-- ARGV[5] group             group name, or "" for none
--
-- Returns 1 when the task was stored; 0 when the task ID is taken (nothing is written).
local task_key, scheduled_key, queues_key = KEYS[1], KEYS[2], KEYS[3]
local msg, process_at, task_id, queue, group = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

if redis.call("EXISTS", task_key) == 1 then
    return 0
end

redis.call("HSET", task_key, "msg", msg, "state", "scheduled")
if group ~= "" then
    redis.call("HSET", task_key, "group", group)
end
redis.call("ZADD", scheduled_key, process_at, task_id)
redis.call("SADD", queues_key, queue)
return 1
