-- Move every task of a container (pending, scheduled, retry or one group) into the
-- archive, then trim the archive by age and size.
--
-- IDs whose task hash has vanished are dropped. Trimmed entries lose their task hash as
-- well, and the archive keeps exactly ARGV[4] entries at most.
--
-- KEYS[1] source_key            list asynq:{Q}:pending, or zset scheduled | retry | g:<G>
-- KEYS[2] archived_key          asynq:{Q}:archived    zset, score = archive time
-- KEYS[3] groups_key            asynq:{Q}:groups      set of group names
-- ARGV[1] source_kind           "list" or "zset": the type of KEYS[1]
-- ARGV[2] now                   now in Unix seconds
-- ARGV[3] cutoff                cutoff in Unix seconds: older archive entries are deleted
-- ARGV[4] max_size              the archive's maximum size (10000)
-- ARGV[5] task_key_prefix       task key prefix       asynq:{Q}:t:
-- ARGV[6] group                 group name when KEYS[1] is a group, "" otherwise
--
-- Returns the number of tasks archived.
local kind = ARGV[1]
local now = ARGV[2]
local cutoff = ARGV[3]
local max_size = tonumber(ARGV[4])
local task_prefix = ARGV[5]
local group = ARGV[6]

local archived = 0
for _, id in ipairs(container_ids(KEYS[1], kind)) do
    local task_key = task_prefix .. id
    if redis.call("EXISTS", task_key) == 1 then
        redis.call("ZADD", KEYS[2], now, id)
        redis.call("HSET", task_key, "state", "archived")
        archived = archived + 1
    end
end
drop_container(KEYS[1], KEYS[3], group)

trim_archive(KEYS[2], task_prefix, cutoff, max_size)
return archived
