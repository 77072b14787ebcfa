-- dequeue: lease up to `limit` pending tasks, trying the queues in the order given and
-- skipping paused ones. Each task moves right-to-left from pending to active (RPOPLPUSH),
-- gets state "active", loses pending_since and is leased until lease_expires_at.
-- A pending ID whose hash has no msg is leased with an empty msg, so the worker archives it
-- with the reason; an ID whose hash is gone is dropped from active and reported with a nil msg.
--
-- KEYS[...] queue_keys           four keys per queue, in order: pending, paused, active, lease
-- ARGV[1] lease_expires_at       Unix seconds, the lease score
-- ARGV[2] limit                  most tasks to lease
-- ARGV[...] task_key_prefixes    one per queue: asynq:{Q}:t:
--
-- Returns a flat array with three entries per task: the 1-based position of its queue, its
-- ID and its msg (nil for a dropped ID). An empty array means no task was ready.
local lease_expires_at, limit = ARGV[1], tonumber(ARGV[2])
local leased = {}
local count = 0

local function lease_from(position, pending_key, active_key, lease_key, task_key_prefix)
    while count < limit do
        local task_id = redis.call("RPOPLPUSH", pending_key, active_key)
        if not task_id then
            return
        end
        local task_key = task_key_prefix .. task_id
        local msg = redis.call("HGET", task_key, "msg")
        if not msg and redis.call("EXISTS", task_key) == 1 then
            msg = ""
        end
        if msg then
            redis.call("HSET", task_key, "state", "active")
            redis.call("HDEL", task_key, "pending_since")
            redis.call("ZADD", lease_key, lease_expires_at, task_id)
            table.insert(leased, position)
            table.insert(leased, task_id)
            table.insert(leased, msg)
            count = count + 1
        else
            redis.call("LREM", active_key, 1, task_id)
            table.insert(leased, position)
            table.insert(leased, task_id)
            table.insert(leased, false)
        end
    end
end

for position = 1, #KEYS / 4 do
    local base = (position - 1) * 4
    if count >= limit then
        break
    end
    if redis.call("EXISTS", KEYS[base + 2]) == 0 then
        lease_from(position, KEYS[base + 1], KEYS[base + 3], KEYS[base + 4], ARGV[2 + position])
    end
end
return leased
