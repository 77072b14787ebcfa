-- schedule_record_event: add one enqueue event to an entry's history, keeping the newest
-- max_events (asynq's RecordSchedulerEnqueueEvent).
--
-- KEYS[1] history_key       asynq:scheduler_history:<entry ID>
-- ARGV[1] enqueued_at       Unix seconds, the event's score
-- ARGV[2] event             encoded SchedulerEnqueueEvent
-- ARGV[3] max_events        1000
--
-- Returns 1.
local history_key = KEYS[1]
local enqueued_at, event, max_events = ARGV[1], ARGV[2], tonumber(ARGV[3])

redis.call("ZREMRANGEBYRANK", history_key, 0, -max_events)
redis.call("ZADD", history_key, enqueued_at, event)
return 1
