-- Read one task: its message, state, result and, when it waits in a sorted set, its score.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>  task hash
-- ARGV[1] task_id               task ID
-- ARGV[2] queue_key_prefix      queue key prefix  asynq:{Q}:
--
-- Returns 0 when the task does not exist, otherwise {msg, state, result, score}, where
-- result is "" when none was written and score is "" unless the task is scheduled or
-- waiting to be retried (then the Unix second it becomes pending).
local task_id = ARGV[1]
local queue_prefix = ARGV[2]

local fields = redis.call("HMGET", KEYS[1], "msg", "state", "result")
local msg, state, result = fields[1], fields[2], fields[3]
if not msg then
    return 0
end

local score = ""
if state == "scheduled" or state == "retry" then
    score = redis.call("ZSCORE", queue_prefix .. state, task_id) or ""
end
return {msg, state, result or "", score}
