-- Delete every task of a container that holds no running task, releasing the uniqueness
-- locks those tasks hold.
--
-- KEYS[1] source_key            list asynq:{Q}:pending, or zset scheduled | retry |
--                               archived | completed | g:<G>
-- KEYS[2] groups_key            asynq:{Q}:groups     set of group names
-- ARGV[1] source_kind           "list" or "zset": the type of KEYS[1]
-- ARGV[2] task_key_prefix       task key prefix      asynq:{Q}:t:
-- ARGV[3] group                 group name when KEYS[1] is a group, "" otherwise
--
-- Returns the number of task records deleted.
local kind = ARGV[1]
local task_prefix = ARGV[2]
local group = ARGV[3]

local deleted = 0
for _, id in ipairs(container_ids(KEYS[1], kind)) do
    deleted = deleted + delete_record(task_prefix .. id, id)
end

drop_container(KEYS[1], KEYS[2], group)
return deleted
