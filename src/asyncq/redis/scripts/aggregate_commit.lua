-- aggregate_commit: store the task made from an aggregation set and delete the set, the
-- hashes of its tasks and its entry in aggregation_sets, all at once. A crash can then
-- neither leave the set behind an enqueued task (it would be aggregated twice) nor lose
-- both. The task is pending (and idle workers are woken), or scheduled when process_at
-- is given; with a unique_key it takes that uniqueness lock. A member that holds its own
-- uniqueness lock releases it with its hash: the task it stood for is consumed.
--
-- KEYS[1] set_key                 asynq:{Q}:g:<G>:<set ID>
-- KEYS[2] aggregation_sets_key    asynq:{Q}:aggregation_sets
-- KEYS[3] task_key                asynq:{Q}:t:<ID> of the new task
-- KEYS[4] pending_key             asynq:{Q}:pending
-- KEYS[5] scheduled_key           asynq:{Q}:scheduled
-- KEYS[...] unique_key            asynq:{Q}:unique:<type>:<md5>, only for a unique task
-- ARGV[1] task_key_prefix         asynq:{Q}:t:
-- ARGV[2] task_id                 <ID> of the new task
-- ARGV[3] msg                     encoded TaskMessage of the new task
-- ARGV[4] now_ns                  Unix nanoseconds, stored as pending_since
-- ARGV[5] process_at              Unix seconds, the score in the scheduled set; 0 = pending now
-- ARGV[6] lock_ttl                lifetime of the uniqueness lock in whole seconds
-- ARGV[7] queue                   Q, published
-- ARGV[8] wakeup_channel          pub/sub channel that idle workers listen on
--
-- Returns 1 when the task was stored and the set deleted; -2 when the set is gone (it was
-- reclaimed or committed already); -1 when the uniqueness lock is held; 0 when the task ID
-- is taken. Nothing is written unless 1 is returned.
local set_key, aggregation_sets_key, task_key = KEYS[1], KEYS[2], KEYS[3]
local pending_key, scheduled_key, unique_key = KEYS[4], KEYS[5], KEYS[6]
local task_key_prefix, task_id, msg, now_ns = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local process_at, lock_ttl, queue, wakeup_channel = ARGV[5], ARGV[6], ARGV[7], ARGV[8]

if redis.call("ZSCORE", aggregation_sets_key, set_key) == false then
    return -2
end
if unique_key and redis.call("EXISTS", unique_key) == 1 then
    return -1
end
if redis.call("EXISTS", task_key) == 1 then
    return 0
end

if process_at == "0" then
    redis.call("HSET", task_key, "msg", msg, "state", "pending", "pending_since", now_ns)
    redis.call("LPUSH", pending_key, task_id)
    redis.call("PUBLISH", wakeup_channel, queue)
else
    redis.call("HSET", task_key, "msg", msg, "state", "scheduled")
    redis.call("ZADD", scheduled_key, process_at, task_id)
end
if unique_key then
    redis.call("SET", unique_key, task_id, "EX", lock_ttl)
    redis.call("HSET", task_key, "unique_key", unique_key)
end

for _, member_id in ipairs(redis.call("ZRANGE", set_key, 0, -1)) do
    local member_key = task_key_prefix .. member_id
    local member_lock = redis.call("HGET", member_key, "unique_key")
    if member_lock and redis.call("GET", member_lock) == member_id then
        redis.call("DEL", member_lock)
    end
    redis.call("DEL", member_key)
end
redis.call("DEL", set_key)
redis.call("ZREM", aggregation_sets_key, set_key)
return 1
