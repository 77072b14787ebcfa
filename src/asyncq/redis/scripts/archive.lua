-- archive: move an active task that will not run again to the archive, counted as
-- processed and failed. Then trim the archive: entries archived at or before cutoff go,
-- and the oldest go until max_size remain; the hash of every trimmed entry is deleted.
-- An empty msg keeps the stored bytes (a message that could not be decoded); a non-empty
-- decode_error is stored in the hash field of that name for operators.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>
-- KEYS[2] active_key            asynq:{Q}:active
-- KEYS[3] lease_key             asynq:{Q}:lease
-- KEYS[4] archived_key          asynq:{Q}:archived
-- KEYS[5] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[6] failed_day_key        asynq:{Q}:failed:<YYYY-MM-DD>
-- KEYS[7] processed_total_key   asynq:{Q}:processed
-- KEYS[8] failed_total_key      asynq:{Q}:failed
-- ARGV[1] task_id               <ID>
-- ARGV[2] msg                   encoded TaskMessage with the error recorded, or ""
-- ARGV[3] now                   Unix seconds, the score in the archive
-- ARGV[4] cutoff                Unix seconds; older entries are trimmed
-- ARGV[5] max_size              most entries the archive keeps
-- ARGV[6] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[7] max_int64             9223372036854775807, where the totals restart at 1
-- ARGV[8] task_key_prefix       asynq:{Q}:t:
-- ARGV[9] decode_error          why the stored msg could not be decoded, or ""
--
-- Returns 1 when done; 0 when the task is not active or its hash is gone (nothing written).
local task_key, active_key, lease_key, archived_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local processed_day_key, failed_day_key = KEYS[5], KEYS[6]
local processed_total_key, failed_total_key = KEYS[7], KEYS[8]
local task_id, msg, now, cutoff, max_size = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stats_expire_at, max_int64, task_key_prefix = ARGV[6], ARGV[7], ARGV[8]
local decode_error = ARGV[9]

if not is_active(active_key, lease_key, task_id) or redis.call("EXISTS", task_key) == 0 then
    return 0
end

release(active_key, lease_key, task_id)
redis.call("ZADD", archived_key, now, task_id)
redis.call("HSET", task_key, "state", "archived")
if msg ~= "" then
    redis.call("HSET", task_key, "msg", msg)
end
if decode_error ~= "" then
    redis.call("HSET", task_key, "decode_error", decode_error)
end

for _, old_id in ipairs(redis.call("ZRANGE", archived_key, "-inf", cutoff, "BYSCORE")) do
    redis.call("DEL", task_key_prefix .. old_id)
end
redis.call("ZREMRANGEBYSCORE", archived_key, "-inf", cutoff)
local excess = redis.call("ZCARD", archived_key) - tonumber(max_size)
if excess > 0 then
    for _, old_id in ipairs(redis.call("ZRANGE", archived_key, 0, excess - 1)) do
        redis.call("DEL", task_key_prefix .. old_id)
    end
    redis.call("ZREMRANGEBYRANK", archived_key, 0, excess - 1)
end

count_today(processed_day_key, stats_expire_at)
count_today(failed_day_key, stats_expire_at)
count_totals(processed_total_key, failed_total_key, max_int64)
return 1
