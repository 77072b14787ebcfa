-- Replace the message of a scheduled task, provided nobody changed it since it was read.
--
-- The caller reads the message, re-encodes it with the new payload and passes both; the
-- comparison makes the read-modify-write atomic.
--
-- KEYS[1] task_key              asynq:{Q}:t:<ID>  task hash
-- ARGV[1] expected_msg          the message as the caller read it
-- ARGV[2] new_msg               the new message
--
-- Returns 1 when replaced, 0 when the task does not exist, -1 when it is not scheduled,
-- -2 when its message changed since it was read.
local expected = ARGV[1]
local replacement = ARGV[2]

local fields = redis.call("HMGET", KEYS[1], "msg", "state")
local msg, state = fields[1], fields[2]
if not msg then
    return 0
end
if state ~= "scheduled" then
    return -1
end
if msg ~= expected then
    return -2
end

redis.call("HSET", KEYS[1], "msg", replacement)
return 1
