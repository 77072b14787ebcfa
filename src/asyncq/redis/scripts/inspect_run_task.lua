-- Move one task to the back of the pending list so it runs as soon as its turn comes.
--
-- Every precondition is checked before the first write. Unlike asynq, pending_since is set,
-- so queue latency counts the task's wait from now.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>   task hash
-- KEYS[2] pending_key           asynq:{Q}:pending  list
-- KEYS[3] groups_key            asynq:{Q}:groups   set of group names
-- ARGV[1] task_id               task ID
-- ARGV[2] queue_key_prefix      queue key prefix   asynq:{Q}:
-- ARGV[3] group_key_prefix      group key prefix   asynq:{Q}:g:
-- ARGV[4] now_ns                now in Unix nanoseconds (the new pending_since)
--
-- Returns 1 when moved, 0 when the task does not exist, -1 when it is active, -2 when it is
-- already pending, -3 when the task hash names a container that does not hold it.
local task_id = ARGV[1]
local queue_prefix = ARGV[2]
local group_prefix = ARGV[3]
local now_ns = ARGV[4]

local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if not state then
    return 0
end
if state == "active" then
    return -1
end
if state == "pending" then
    return -2
end

local container = container_of(state, group, queue_prefix, group_prefix)
if not redis.call("ZSCORE", container, task_id) then
    return -3
end

redis.call("ZREM", container, task_id)
if state == "aggregating" then
    forget_group_if_empty(container, KEYS[3], group)
end
redis.call("LPUSH", KEYS[2], task_id)
redis.call("HSET", KEYS[1], "state", "pending", "pending_since", now_ns)
return 1
