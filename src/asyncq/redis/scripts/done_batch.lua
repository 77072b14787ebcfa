-- done_batch: done for several succeeded tasks of one queue in one call. Each task is
-- finished exactly as done finishes it, in the order given, so the end state is the one
-- the same done calls made one after another leave.
--
-- KEYS[1] active_key            asynq:{Q}:active
-- KEYS[2] lease_key             asynq:{Q}:lease
-- KEYS[3] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[4] processed_total_key   asynq:{Q}:processed
-- KEYS[...] task_keys           two per task: asynq:{Q}:t:<ID>, then its uniqueness lock
--                               asynq:{Q}:unique:<type>:<md5>, or the task key again when
--                               it has none
-- ARGV[1] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[2] max_int64             9223372036854775807, where the total restarts at 1
-- ARGV[...] task_ids            <ID>, one per task, in the order of task_keys
--
-- Returns one code per task: 1 when done; 0 when it is not active or its hash is gone
-- (nothing written for it).
local codes = {}

-- The lock key stands in a pair with its task key; the task key again means no lock.
for i = 3, #ARGV do
    local task_key, unique_key = KEYS[2 * i - 1], KEYS[2 * i]
    if unique_key == task_key then
        unique_key = nil
    end
    codes[#codes + 1] = finish_done(
        KEYS[1], KEYS[2], task_key, KEYS[3], KEYS[4], unique_key, ARGV[i], ARGV[1], ARGV[2]
    )
end
return codes
