-- Move one task into the archive, then trim the archive by age and size.
--
-- Every precondition is checked before the first write. Trimmed entries lose their task
-- hash as well, and the archive keeps exactly ARGV[4] entries at most.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>    task hash
-- KEYS[2] archived_key          asynq:{Q}:archived  zset, score = archive time
-- KEYS[3] groups_key            asynq:{Q}:groups    set of group names
-- KEYS[4] pending_key           asynq:{Q}:pending   list
-- ARGV[1] task_id               task ID
-- ARGV[2] now                   now in Unix seconds
-- ARGV[3] cutoff                cutoff in Unix seconds: older archive entries are deleted
-- ARGV[4] max_size              the archive's maximum size (10000)
-- ARGV[5] queue_key_prefix      queue key prefix    asynq:{Q}:
-- ARGV[6] group_key_prefix      group key prefix    asynq:{Q}:g:
-- ARGV[7] task_key_prefix       task key prefix     asynq:{Q}:t:
--
-- Returns 1 when archived, 0 when the task does not exist, -1 when it is already archived,
-- -2 when it is active, -3 when the task hash names a container that does not hold it.
local task_id = ARGV[1]
local now = ARGV[2]
local cutoff = ARGV[3]
local max_size = tonumber(ARGV[4])
local queue_prefix = ARGV[5]
local group_prefix = ARGV[6]
local task_prefix = ARGV[7]

local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if not state then
    return 0
end
if state == "archived" then
    return -1
end
if state == "active" then
    return -2
end

local container = container_of(state, group, queue_prefix, group_prefix)
if state == "pending" then
    if not redis.call("LPOS", KEYS[4], task_id) then
        return -3
    end
    redis.call("LREM", KEYS[4], 1, task_id)
else
    if not redis.call("ZSCORE", container, task_id) then
        return -3
    end
    redis.call("ZREM", container, task_id)
    if state == "aggregating" then
        forget_group_if_empty(container, KEYS[3], group)
    end
end

redis.call("ZADD", KEYS[2], now, task_id)
redis.call("HSET", KEYS[1], "state", "archived")

trim_archive(KEYS[2], task_prefix, cutoff, max_size)
return 1
