-- list_lease_expired: the active tasks whose lease ended at or before cutoff. A lease
-- entry whose task hash or msg is gone is removed, with its active entry.
--
-- KEYS[1] lease_key           asynq:{Q}:lease
-- KEYS[2] active_key          asynq:{Q}:active
-- ARGV[1] cutoff              Unix seconds
-- ARGV[2] task_key_prefix     asynq:{Q}:t:
--
-- Returns a flat array with two entries per task: its ID and its msg.
local lease_key, active_key = KEYS[1], KEYS[2]
local cutoff, task_key_prefix = ARGV[1], ARGV[2]

local expired = {}
for _, task_id in ipairs(redis.call("ZRANGE", lease_key, "-inf", cutoff, "BYSCORE")) do
    local msg = redis.call("HGET", task_key_prefix .. task_id, "msg")
    if msg then
        table.insert(expired, task_id)
        table.insert(expired, msg)
    else
        redis.call("ZREM", lease_key, task_id)
        redis.call("LREM", active_key, 0, task_id)
    end
end
return expired
