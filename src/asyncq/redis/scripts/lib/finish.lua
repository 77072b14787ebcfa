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

-- Release a uniqueness lock (unique_key may be nil) if it still belongs to task_id.
local function release_lock(unique_key, task_id)
    if unique_key and redis.call("GET", unique_key) == task_id then
        redis.call("DEL", unique_key)
    end
end

-- The whole of done for one task: 1 when done, 0 (nothing written) when it is not active
-- or its hash is gone.
local function finish_done(active_key, lease_key, task_key, day_key, total_key, unique_key,
                           task_id, stats_expire_at, max_int64)
    if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
        return 0
    end
    release(active_key, lease_key, task_id)
    redis.call("DEL", task_key)
    count_today(day_key, stats_expire_at)
    count_totals(total_key, nil, max_int64)
    release_lock(unique_key, task_id)
    return 1
end

-- The whole of mark_as_complete for one task: 1 when done, 0 when it is not active or its
-- hash is gone, -1 when the ID is already completed; nothing is written unless 1.
local function finish_completed(active_key, lease_key, completed_key, task_key, day_key,
                                total_key, unique_key, task_id, stats_expire_at, expire_at,
                                msg, max_int64)
    if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
        return 0
    end
    if redis.call("ZSCORE", completed_key, task_id) then
        return -1
    end
    release(active_key, lease_key, task_id)
    redis.call("ZADD", completed_key, expire_at, task_id)
    redis.call("HSET", task_key, "msg", msg, "state", "completed")
    count_today(day_key, stats_expire_at)
    count_totals(total_key, nil, max_int64)
    release_lock(unique_key, task_id)
    return 1
end
