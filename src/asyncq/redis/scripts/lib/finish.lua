-- Helpers shared by the scripts that finish an active task; prepended to them by the loader.

-- True when task_id is leased: listed in both the active list and the lease set.
local function is_active(active_key, lease_key, task_id)
    return redis.call("ZSCORE", lease_key, task_id) ~= false
        and redis.call("LPOS", active_key, task_id) ~= false
end

-- Take task_id out of the active list and the lease set.
local function release(active_key, lease_key, task_id)
    redis.call("LREM", active_key, 0, task_id)
    redis.call("ZREM", lease_key, task_id)
end

-- Count one event in a daily counter; a new counter expires at expire_at (Unix seconds).
local function count_today(key, expire_at)
    if redis.call("INCR", key) == 1 then
        redis.call("EXPIREAT", key, expire_at)
    end
end

-- Count one event in the all-time counters. Both restart at 1 when the processed total
-- has reached max_int64, as asynq does.
local function count_totals(processed_total_key, failed_total_key, max_int64)
    local total = redis.call("GET", processed_total_key)
    local wrap = total ~= false and tonumber(total) == tonumber(max_int64)
    for _, key in ipairs({processed_total_key, failed_total_key}) do
        if wrap then
            redis.call("SET", key, 1)
        else
            redis.call("INCR", key)
        end
    end
end
