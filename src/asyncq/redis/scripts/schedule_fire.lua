-- schedule_fire: fire one tick of a scheduler entry at most once across all schedulers,
-- and enqueue its task in the same atomic step.
--
-- The entry's record holds the newest tick that any scheduler has handled. A tick is
-- handled only when it is newer than the record, and handling it raises the record, so a
-- second scheduler (or the same one after a restart or a pause) finds it already handled.
-- Time is read with Redis TIME, never from the caller's clock.
--
-- KEYS[1] fired_key         asynq:{Q}:scheduler_fired (HASH entry ID -> newest handled tick)
-- KEYS[2] task_key          asynq:{Q}:t:<ID>
-- KEYS[3] target_key        asynq:{Q}:pending, asynq:{Q}:scheduled or asynq:{Q}:g:<G>
-- KEYS[4] groups_key        asynq:{Q}:groups (written only for state "aggregating")
-- KEYS[...] unique_key      asynq:{Q}:unique:<type>:<md5>, present only with a uniqueness lock
-- ARGV[1] entry_id          the entry's deterministic ID
-- ARGV[2] tick              Unix seconds of the fire time being handled
-- ARGV[3] mode              "fire", "catch_up" (a missed tick, no lateness limit) or "skip"
-- ARGV[4] max_lateness      seconds by which a "fire" tick may lag Redis time
-- ARGV[5] state             "pending", "scheduled" or "aggregating"
-- ARGV[6] msg               encoded TaskMessage
-- ARGV[7] task_id           <ID>
-- ARGV[8] process_at        Unix seconds, the score for state "scheduled"
-- ARGV[9] group             G for state "aggregating", else ""
-- ARGV[10] lock_ttl         uniqueness lock lifetime in whole seconds
-- ARGV[11] queue            Q, published on the wake-up channel
-- ARGV[12] wakeup_channel   pub/sub channel that idle asyncq workers listen on
--
-- The task hash gets the fields the client's enqueue, schedule or add-to-group path writes
-- (a unique task's hash names its lock in unique_key, a grouped one's too).
--
-- Returns {code, redis_seconds, redis_microseconds}. Codes:
--   1  the task was enqueued and the tick recorded
--   0  the tick (or a newer one) was already handled; nothing written
--  -1  the tick lags Redis time by more than max_lateness; nothing written
--  -2  the task ID is taken; the tick is recorded, nothing enqueued
--  -3  the uniqueness lock is held; the tick is recorded, nothing enqueued
--   2  mode "skip": the tick is recorded, nothing enqueued
local fired_key, task_key, target_key, groups_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local unique_key = KEYS[5]
local entry_id, tick, mode, max_lateness = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local state, msg, task_id, process_at = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local group, lock_ttl, queue, wakeup_channel = ARGV[9], ARGV[10], ARGV[11], ARGV[12]

local now = redis.call("TIME")
local now_s = tonumber(now[1])
local function reply(code)
    return {code, now_s, tonumber(now[2])}
end

local handled = tonumber(redis.call("HGET", fired_key, entry_id) or "-1")
if handled >= tick then
    return reply(0)
end
if mode == "fire" and tick < now_s - max_lateness then
    return reply(-1)
end

redis.call("HSET", fired_key, entry_id, tick)
if mode == "skip" then
    return reply(2)
end
if unique_key and redis.call("EXISTS", unique_key) == 1 then
    return reply(-3)
end
if redis.call("EXISTS", task_key) == 1 then
    return reply(-2)
end

if unique_key then
    redis.call("SET", unique_key, task_id, "EX", lock_ttl)
    redis.call("HSET", task_key, "unique_key", unique_key)
end
if state == "pending" then
    local now_ns = now[1] .. string.format("%06d", tonumber(now[2])) .. "000"
    redis.call("HSET", task_key, "msg", msg, "state", "pending", "pending_since", now_ns)
    redis.call("LPUSH", target_key, task_id)
    redis.call("PUBLISH", wakeup_channel, queue)
elseif state == "scheduled" then
    redis.call("HSET", task_key, "msg", msg, "state", "scheduled")
    redis.call("ZADD", target_key, process_at, task_id)
else
    redis.call("HSET", task_key, "msg", msg, "state", "aggregating", "group", group)
    redis.call("ZADD", target_key, now_s, task_id)
    redis.call("SADD", groups_key, group)
end
return reply(1)
