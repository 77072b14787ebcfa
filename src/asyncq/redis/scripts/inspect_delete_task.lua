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

local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if not state then
    return 0
end
if state == "active" then
    return -1
end

local container = container_of(state, group, queue_prefix, group_prefix)
if state == "pending" then
    redis.call("LREM", container, 0, task_id)
else
    redis.call("ZREM", container, task_id)
    if state == "aggregating" then
        forget_group_if_empty(container, KEYS[2], group)
    end
end
return delete_record(KEYS[1], task_id)
