-- delete_aggregation_set: delete an aggregation set, the hashes of its tasks and its entry
-- in aggregation_sets, once the aggregated task was enqueued.
--
-- KEYS[1] set_key                 asynq:{Q}:g:<G>:<set ID>
-- KEYS[2] aggregation_sets_key    asynq:{Q}:aggregation_sets
-- ARGV[1] task_key_prefix         asynq:{Q}:t:
--
-- Returns 1.
local set_key, aggregation_sets_key = KEYS[1], KEYS[2]
local task_key_prefix = ARGV[1]

for _, task_id in ipairs(redis.call("ZRANGE", set_key, 0, -1)) do
    redis.call("DEL", task_key_prefix .. task_id)
end
redis.call("DEL", set_key)
redis.call("ZREM", aggregation_sets_key, set_key)
return 1
