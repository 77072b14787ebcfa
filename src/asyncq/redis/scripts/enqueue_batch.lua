-- enqueue_batch: store many pending tasks of one queue, leaving the state that one enqueue
-- per task leaves; a task whose ID is taken is skipped. Registers the queue and wakes idle
-- workers once, when the pending list was empty (as enqueue does).
--
-- KEYS[1] pending_key       asynq:{Q}:pending
-- KEYS[2] queues_key        asynq:queues
--                           On Redis Cluster, where it lives in another slot, KEYS[1]
--                           again: the caller registers the queue itself.
-- KEYS[...] task_keys       asynq:{Q}:t:<ID>, one per task
-- ARGV[1] now_ns            Unix nanoseconds, stored as pending_since
-- ARGV[2] queue             Q, added to asynq:queues and published
-- ARGV[3] wakeup_channel    pub/sub channel that idle workers listen on (published to
--                           only when the pending list was empty)
-- ARGV[...] entries         pairs, one per task in KEYS order: task ID, encoded TaskMessage
--
-- Returns an array with one entry per task: 1 when stored, 0 when its ID is taken.
local pending_key, queues_key = KEYS[1], KEYS[2]
local now_ns, queue, wakeup_channel = ARGV[1], ARGV[2], ARGV[3]

local stored = {}
local any = false
local was_empty = redis.call("LLEN", pending_key) == 0
for i = 3, #KEYS do
    local task_key = KEYS[i]
    local entry = 4 + (i - 3) * 2
    if redis.call("EXISTS", task_key) == 1 then
        table.insert(stored, 0)
    else
        redis.call("HSET", task_key, "msg", ARGV[entry + 1], "state", "pending",
            "pending_since", now_ns)
        redis.call("LPUSH", pending_key, ARGV[entry])
        table.insert(stored, 1)
        any = true
    end
end
if any then
    if queues_key ~= KEYS[1] then
        redis.call("SADD", queues_key, queue)
    end
    if was_empty then
        redis.call("PUBLISH", wakeup_channel, queue)
    end
end
return stored
