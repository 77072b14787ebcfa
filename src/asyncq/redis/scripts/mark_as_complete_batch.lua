-- mark_as_complete_batch: mark_as_complete for several succeeded tasks of one queue in one
-- call. Each task is finished exactly as mark_as_complete finishes it, in the order given,
-- so the end state is the one the same calls made one after another leave.
--
-- KEYS[1] active_key            asynq:{Q}:active
-- KEYS[2] lease_key             asynq:{Q}:lease
-- KEYS[3] completed_key         asynq:{Q}:completed
-- KEYS[4] processed_day_key     asynq:{Q}:processed:<YYYY-MM-DD>
-- KEYS[5] processed_total_key   asynq:{Q}:processed
-- KEYS[...] task_keys           two per task: asynq:{Q}:t:<ID>, then its uniqueness lock
--                               asynq:{Q}:unique:<type>:<md5>, or the task key again when
--                               it has none
-- ARGV[1] stats_expire_at       Unix seconds when a new daily counter expires
-- ARGV[2] max_int64             9223372036854775807, where the total restarts at 1
-- ARGV[...] entries             three per task, in the order of task_keys: <ID>, expire_at
--                               (completion time plus retention, the score) and the
--                               encoded TaskMessage with completed_at set
--
-- Returns one code per task: 1 when done; 0 when it is not active or its hash is gone; -1
-- when its ID is already in the completed set. Nothing is written for a task unless 1.
local codes = {}

-- The lock key stands in a pair with its task key; the task key again means no lock.
for n = 0, (#ARGV - 2) / 3 - 1 do
    local task_key, unique_key = KEYS[6 + 2 * n], KEYS[7 + 2 * n]
    if unique_key == task_key then
        unique_key = nil
    end
    local entry = 3 + 3 * n
    codes[#codes + 1] = finish_completed(
        KEYS[1], KEYS[2], KEYS[3], task_key, KEYS[4], KEYS[5], unique_key,
        ARGV[entry], ARGV[1], ARGV[entry + 1], ARGV[entry + 2], ARGV[2]
    )
end
return codes
