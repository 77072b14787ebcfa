-- Move every task of a sorted set (scheduled, retry, archived or one group) to pending.
--
-- Tasks are pushed oldest score first; IDs whose task hash has vanished are dropped
-- instead of being left in pending without a record. Unlike asynq, pending_since is set.
--
-- KEYS[1] source_key            zset asynq:{Q}:scheduled | retry | archived | g:<G>
-- KEYS[2] pending_key           asynq:{Q}:pending     list
-- KEYS[3] groups_key            asynq:{Q}:groups      set of group names
-- ARGV[1] task_key_prefix       task key prefix       asynq:{Q}:t:
-- ARGV[2] now_ns                now in Unix nanoseconds (the new pending_since)
-- ARGV[3] group                 group name when KEYS[1] is a group, "" otherwise
--
-- Returns the number of tasks moved.
local task_prefix = ARGV[1]
local now_ns = ARGV[2]
local group = ARGV[3]

local moved = 0
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
    local task_key = task_prefix .. id
    if redis.call("EXISTS", task_key) == 1 then
        redis.call("LPUSH", KEYS[2], id)
        redis.call("HSET", task_key, "state", "pending", "pending_since", now_ns)
        moved = moved + 1
    end
end

drop_container(KEYS[1], KEYS[3], group)
return moved
