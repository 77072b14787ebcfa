-- Read one page of a task container with each task's message and result.
--
-- Lists (pending, active) are read oldest first, that is from the right end where tasks
-- are dequeued; sorted sets in ascending score. Only the page is read, never the whole
-- container. IDs whose task hash has vanished are skipped.
--
-- KEYS[1] container_key         the container          list or zset
-- KEYS[2] lease_key             asynq:{Q}:lease  zset of lease expiries, read when ARGV[5] is "1"
-- ARGV[1] container_kind        "list" or "zset"
-- ARGV[2] start                 first position of the page (0-based)
-- ARGV[3] stop                  last position of the page (inclusive)
-- ARGV[4] task_key_prefix       task key prefix        asynq:{Q}:t:
-- ARGV[5] with_lease            "1" to report lease expiries instead of container scores
--
-- Returns a flat array of {id, msg, result, score} per task, in page order; result and
-- score are "" when absent.
local kind = ARGV[1]
local start = tonumber(ARGV[2])
local stop = tonumber(ARGV[3])
local task_prefix = ARGV[4]
local with_lease = ARGV[5] == "1"

local ids, scores = {}, {}
if kind == "list" then
    local page = redis.call("LRANGE", KEYS[1], -(stop + 1), -(start + 1))
    for i = #page, 1, -1 do
        table.insert(ids, page[i])
    end
else
    local page = redis.call("ZRANGE", KEYS[1], start, stop, "WITHSCORES")
    for i = 1, #page, 2 do
        table.insert(ids, page[i])
        scores[page[i]] = page[i + 1]
    end
end

local out = {}
for _, id in ipairs(ids) do
    local fields = redis.call("HMGET", task_prefix .. id, "msg", "result")
    if fields[1] then
        local score = scores[id] or ""
        if with_lease then
            score = redis.call("ZSCORE", KEYS[2], id) or ""
        end
        table.insert(out, id)
        table.insert(out, fields[1])
        table.insert(out, fields[2] or "")
        table.insert(out, score)
    end
end
return out
