-- retry: move a failed active task to the retry set until retry_at, with its updated msg.
-- When is_failure is "1" the attempt counts as processed and failed.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>
-- KEYS[2] active_key            asynq:{Q}:active
-- KEYS[3] lease_key             asynq:{Q}:lease
-- KEYS[4] retry_key             asynq:{Q}:retry
-- KEYS[5] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[6] failed_day_key        asynq:{Q}:failed:<YYYY-MM-DD>
-- KEYS[7] processed_total_key   asynq:{Q}:processed
-- KEYS[8] failed_total_key      asynq:{Q}:failed
-- ARGV[1] task_id               <ID>
-- ARGV[2] msg                   encoded TaskMessage with the error recorded
-- ARGV[3] retry_at              Unix seconds, the score in the retry set
-- ARGV[4] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[5] is_failure            "1" to count the attempt, "0" not to
-- ARGV[6] max_int64             9223372036854775807, where the totals restart at 1
--
-- Returns 1 when done; 0 when the task is not active or its hash is gone (nothing written).
local task_key, active_key, lease_key, retry_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local processed_day_key, failed_day_key = KEYS[5], KEYS[6]
local processed_total_key, failed_total_key = KEYS[7], KEYS[8]
local task_id, msg, retry_at, stats_expire_at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local is_failure, max_int64 = ARGV[5], ARGV[6]

if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
    return 0
end

release(active_key, lease_key, task_id)
redis.call("ZADD", retry_key, retry_at, task_id)
redis.call("HSET", task_key, "msg", msg, "state", "retry")
if is_failure == "1" then
    count_today(processed_day_key, stats_expire_at)
    count_today(failed_day_key, stats_expire_at)
    count_totals(processed_total_key, failed_total_key, max_int64)
end
return 1
