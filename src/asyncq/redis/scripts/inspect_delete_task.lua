-- Delete one task that is not running, and release its uniqueness lock if it holds it.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>  task hash
-- KEYS[2] groups_key            asynq:{Q}:groups  set of group names
-- ARGV[1] task_id               task ID
-- ARGV[2] queue_key_prefix      queue key prefix  asynq:{Q}:
-- ARGV[3] group_key_prefix      group key prefix  asynq:{Q}:g:
--
-- Returns 1 when deleted, 0 when the task does not exist, -1 when it is active.
local task_id = ARGV[1]
local queue_prefix = ARGV[2]
local group_prefix = ARGV[3]

local fields = redis.call("HMGET", KEYS[1], "state", "group", "unique_key")
local state, group, unique_key = fields[1], fields[2], fields[3]
if not state then
    return 0
end
if state == "active" then
    return -1
end

if state == "pending" then
    redis.call("LREM", queue_prefix .. "pending", 0, task_id)
elseif state == "aggregating" then
    local group_key = group_prefix .. (group or "")
    redis.call("ZREM", group_key, task_id)
    if redis.call("ZCARD", group_key) == 0 then
        redis.call("SREM", KEYS[2], group)
    end
else
    redis.call("ZREM", queue_prefix .. state, task_id)
end

if unique_key and unique_key ~= "" and redis.call("GET", unique_key) == task_id then
    redis.call("DEL", unique_key)
end
return redis.call("DEL", KEYS[1])
