-- schedule_write_entries: replace a scheduler's published entries (asynq's
-- WriteSchedulerEntries). LPUSH reverses the order, so pass the entry that fires soonest
-- first and it ends up last, as Go writes it.
--
-- KEYS[1] entries_key       asynq:schedulers:{<scheduler ID>}
-- ARGV[1] ttl               lifetime of the list in whole seconds
-- ARGV[...] entries         encoded SchedulerEntry messages
--
-- Returns 1.
local entries_key = KEYS[1]
local ttl = ARGV[1]

redis.call("DEL", entries_key)
for i = 2, #ARGV do
    redis.call("LPUSH", entries_key, ARGV[i])
end
redis.call("EXPIRE", entries_key, ttl)
return 1
