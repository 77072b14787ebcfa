-- read_aggregation_set: the messages of an aggregation set's tasks and the set's deadline.
--
-- KEYS[1] set_key                 asynq:{Q}:g:<G>:<set ID>
-- KEYS[2] aggregation_sets_key    asynq:{Q}:aggregation_sets
-- ARGV[1] task_key_prefix         asynq:{Q}:t:
--
-- Returns an array: the deadline (Unix seconds as a string, false when the set is not
-- listed), then the msg of each task in set order (tasks whose hash is gone are skipped).
local set_key, aggregation_sets_key = KEYS[1], KEYS[2]
local task_key_prefix = ARGV[1]

local found = {redis.call("ZSCORE", aggregation_sets_key, set_key)}
for _, task_id in ipairs(redis.call("ZRANGE", set_key, 0, -1)) do
    local msg = redis.call("HGET", task_key_prefix .. task_id, "msg")
    if msg then
        table.insert(found, msg)
    end
end
return found
