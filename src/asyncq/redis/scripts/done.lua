-- done: delete a task that succeeded without retention (or was revoked), count it as
-- processed and release its uniqueness lock if the lock still belongs to it.
--
-- KEYS[1] active_key            asynq:{Q}:active
-- KEYS[2] lease_key             asynq:{Q}:lease
-- KEYS[3] task_key              asynq:{Q}:t:<ID>
-- KEYS[4] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[5] processed_total_key   asynq:{Q}:processed
-- KEYS[...] unique_key          only when the task has one: asynq:{Q}:unique:<type>:<md5>
-- ARGV[1] task_id               <ID>
-- ARGV[2] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[3] max_int64             9223372036854775807, where the total restarts at 1
--
-- Returns 1 when done; 0 when the task is not active or its hash is gone (nothing written).
return finish_done(
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], ARGV[2], ARGV[3]
)
