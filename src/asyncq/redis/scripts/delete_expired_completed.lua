-- delete_expired_completed: delete up to batch_size completed tasks whose retention has
-- run out, with their hashes.
--
-- KEYS[1] completed_key       asynq:{Q}:completed
-- ARGV[1] now                 Unix seconds; scores up to it have expired
-- ARGV[2] task_key_prefix     asynq:{Q}:t:
-- ARGV[3] batch_size          most tasks to delete in this call
--
-- Returns the number of tasks deleted.
local completed_key = KEYS[1]
local now, task_key_prefix, batch_size = ARGV[1], ARGV[2], ARGV[3]

local expired = redis.call("ZRANGE", completed_key, "-inf", now, "BYSCORE", "LIMIT", 0, batch_size)
for _, task_id in ipairs(expired) do
    redis.call("DEL", task_key_prefix .. task_id)
    redis.call("ZREM", completed_key, task_id)
end
return #expired
