-- mark_as_complete: keep a task that succeeded with retention as "completed" until
-- expire_at, count it as processed and release its uniqueness lock if it still holds it.
--
-- KEYS[1] active_key            asynq:{Q}:active
-- KEYS[2] lease_key             asynq:{Q}:lease
-- KEYS[3] completed_key         asynq:{Q}:completed
-- KEYS[4] task_key              asynq:{Q}:t:<ID>
-- KEYS[5] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[6] processed_total_key   asynq:{Q}:processed
-- KEYS[...] unique_key          only when the task has one: asynq:{Q}:unique:<type>:<md5>
-- ARGV[1] task_id               <ID>
-- ARGV[2] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[3] expire_at             Unix seconds, completion time plus retention (the score)
-- ARGV[4] msg                   encoded TaskMessage with completed_at set
-- ARGV[5] max_int64             9223372036854775807, where the total restarts at 1
--
-- Returns 1 when done; 0 when the task is not active or its hash is gone; -1 when the ID is
-- already in the completed set. Nothing is written unless 1 is returned.
local active_key, lease_key, completed_key, task_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local processed_day_key, processed_total_key, unique_key = KEYS[5], KEYS[6], KEYS[7]
local task_id, stats_expire_at, expire_at, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max_int64 = ARGV[5]

if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
    return 0
end
if redis.call("ZSCORE", completed_key, task_id) then
    return -1
end

release(active_key, lease_key, task_id)
redis.call("ZADD", completed_key, expire_at, task_id)
redis.call("HSET", task_key, "msg", msg, "state", "completed")
count_today(processed_day_key, stats_expire_at)
count_totals(processed_total_key, nil, max_int64)
if unique_key and redis.call("GET", unique_key) == task_id then
    redis.call("DEL", unique_key)
end
return 1
