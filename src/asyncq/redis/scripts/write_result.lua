-- write_result: store a handler's result on its task, if the task still exists.
--
-- KEYS[1] task_key      asynq:{Q}:t:<ID>
-- ARGV[1] result        raw bytes
--
-- Returns the number of bytes written; -1 when the task hash is gone (nothing written).
local task_key = KEYS[1]
local result = ARGV[1]

if redis.call("EXISTS", task_key) == 0 then
    return -1
end
redis.call("HSET", task_key, "result", result)
return string.len(result)
