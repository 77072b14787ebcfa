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
return finish_completed(
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7],
    ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
)
