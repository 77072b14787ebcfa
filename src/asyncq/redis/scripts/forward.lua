-- forward: move up to `limit` tasks that are due from the scheduled or retry set. A task
-- whose hash names a group goes back to that group (and the group is listed in groups);
-- any other becomes pending since now. An ID whose hash is gone is dropped. Idle workers
-- are woken when something became pending.
--
-- KEYS[1] source_key          asynq:{Q}:scheduled or asynq:{Q}:retry
-- KEYS[2] pending_key         asynq:{Q}:pending
-- KEYS[3] groups_key          asynq:{Q}:groups
-- ARGV[1] now                 Unix seconds; scores up to it are due
-- ARGV[2] task_key_prefix     asynq:{Q}:t:
-- ARGV[3] now_ns              Unix nanoseconds, stored as pending_since
-- ARGV[4] group_key_prefix    asynq:{Q}:g:
-- ARGV[5] limit               most tasks to move in this call
-- ARGV[6] queue               Q, published
-- ARGV[7] wakeup_channel      pub/sub channel that idle workers listen on
--
-- Returns the number of IDs taken out of the source set (0 when nothing is due).
local source_key, pending_key, groups_key = KEYS[1], KEYS[2], KEYS[3]
local now, task_key_prefix, now_ns, group_key_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit, queue, wakeup_channel = ARGV[5], ARGV[6], ARGV[7]

local due = redis.call("ZRANGE", source_key, "-inf", now, "BYSCORE", "LIMIT", 0, limit)
local made_pending = false
for _, task_id in ipairs(due) do
    local task_key = task_key_prefix .. task_id
    local found = redis.call("HMGET", task_key, "msg", "group")
    local group = found[2]
    if not found[1] then
        redis.call("DEL", task_key)
    elseif group and group ~= "" then
        redis.call("ZADD", group_key_prefix .. group, now, task_id)
        redis.call("SADD", groups_key, group)
        redis.call("HSET", task_key, "state", "aggregating")
    else
        redis.call("LPUSH", pending_key, task_id)
        redis.call("HSET", task_key, "state", "pending", "pending_since", now_ns)
        made_pending = true
    end
    redis.call("ZREM", source_key, task_id)
end
if made_pending then
    redis.call("PUBLISH", wakeup_channel, queue)
end
return #due
