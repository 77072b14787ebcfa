-- Helpers shared by the inspector's scripts (inspect_*.lua); prepended to them by the loader.

-- The key of the list or sorted set that holds a task in `state` (its group for aggregating).
local function container_of(state, group, queue_prefix, group_prefix)
    if state == "aggregating" then
        return group_prefix .. (group or "")
    end
    return queue_prefix .. state
end

-- Every task ID of a container, whichever of "list" or "zset" `kind` says it is.
local function container_ids(key, kind)
    if kind == "list" then
        return redis.call("LRANGE", key, 0, -1)
    end
    return redis.call("ZRANGE", key, 0, -1)
end

-- Delete an emptied container; when it was a group (`group` not ""), forget the group too.
local function drop_container(key, groups_key, group)
    redis.call("DEL", key)
    if group ~= "" then
        redis.call("SREM", groups_key, group)
    end
end

-- Forget `group` in the groups set once its sorted set is empty, so no reader finds a
-- group name without tasks.
local function forget_group_if_empty(group_key, groups_key, group)
    if redis.call("ZCARD", group_key) == 0 then
        redis.call("SREM", groups_key, group)
    end
end

-- Delete a task record and the uniqueness lock it holds; returns 1 if the record existed.
local function delete_record(task_key, task_id)
    local unique_key = redis.call("HGET", task_key, "unique_key")
    if unique_key and unique_key ~= "" and redis.call("GET", unique_key) == task_id then
        redis.call("DEL", unique_key)
    end
    return redis.call("DEL", task_key)
end

-- Trim the archive: entries archived at or before `cutoff` go, then the oldest ones
-- beyond `max_size`; their task records go with them.
local function trim_archive(archived_key, task_prefix, cutoff, max_size)
    local function drop(ids)
        for _, id in ipairs(ids) do
            redis.call("DEL", task_prefix .. id)
            redis.call("ZREM", archived_key, id)
        end
    end
    drop(redis.call("ZRANGE", archived_key, "-inf", cutoff, "BYSCORE"))
    local excess = redis.call("ZCARD", archived_key) - max_size
    if excess > 0 then
        drop(redis.call("ZRANGE", archived_key, 0, excess - 1))
    end
end
