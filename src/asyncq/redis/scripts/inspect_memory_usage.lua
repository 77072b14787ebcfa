-- Estimate the memory one queue uses, sampling task hashes the way asynq does.
--
-- For each container, the first ARGV[2] task hashes are measured with MEMORY USAGE; their
-- average times the container's length, plus the container itself, is its share. Groups
-- are sampled from their first ARGV[3] members. Hashes that vanished since the container
-- was read are skipped, and empty samples count as zero, so the estimate never fails.
--
-- KEYS[1] active_key            asynq:{Q}:active     list
-- KEYS[2] pending_key           asynq:{Q}:pending    list
-- KEYS[3] scheduled_key         asynq:{Q}:scheduled  zset
-- KEYS[4] retry_key             asynq:{Q}:retry      zset
-- KEYS[5] archived_key          asynq:{Q}:archived   zset
-- KEYS[6] completed_key         asynq:{Q}:completed  zset
-- KEYS[7] groups_key            asynq:{Q}:groups     set of group names
-- ARGV[1] task_key_prefix       task key prefix      asynq:{Q}:t:
-- ARGV[2] sample_size           task sample size per container (20)
-- ARGV[3] group_sample_size     number of groups sampled (5)
-- ARGV[4] group_key_prefix      group key prefix     asynq:{Q}:g:
--
-- Returns the estimate in bytes (integer).
local task_prefix = ARGV[1]
local sample_size = tonumber(ARGV[2])
local group_sample_size = tonumber(ARGV[3])
local group_prefix = ARGV[4]

local function key_memory(key)
    return redis.call("MEMORY", "USAGE", key) or 0
end

local function average_task_memory(ids)
    local total, measured = 0, 0
    for _, id in ipairs(ids) do
        local bytes = redis.call("MEMORY", "USAGE", task_prefix .. id)
        if bytes then
            total = total + bytes
            measured = measured + 1
        end
    end
    if measured == 0 then
        return 0
    end
    return total / measured
end

local estimate = 0
for i = 1, 2 do
    local ids = redis.call("LRANGE", KEYS[i], 0, sample_size - 1)
    local length = redis.call("LLEN", KEYS[i])
    estimate = estimate + average_task_memory(ids) * length + key_memory(KEYS[i])
end
for i = 3, 6 do
    local ids = redis.call("ZRANGE", KEYS[i], 0, sample_size - 1)
    local length = redis.call("ZCARD", KEYS[i])
    estimate = estimate + average_task_memory(ids) * length + key_memory(KEYS[i])
end

local groups = redis.call("SMEMBERS", KEYS[7])
local grouped, sampled = 0, {}
for i, group in ipairs(groups) do
    local key = group_prefix .. group
    grouped = grouped + redis.call("ZCARD", key)
    if i <= group_sample_size then
        for _, id in ipairs(redis.call("ZRANGE", key, 0, sample_size - 1)) do
            table.insert(sampled, id)
        end
    end
end
estimate = estimate + average_task_memory(sampled) * grouped

return math.floor(estimate)
