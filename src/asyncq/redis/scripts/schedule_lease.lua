-- schedule_lease: take or renew the lease that makes one scheduler the publisher of
-- entries, or give it up. Only the holder may renew or release it.
--
-- KEYS[1] lease_key         asynq:scheduler_publisher (STRING: the holder's scheduler ID)
-- ARGV[1] scheduler_id      the caller's scheduler ID
-- ARGV[2] ttl_ms            lease lifetime in milliseconds; 0 releases the lease
--
-- Returns 1 when the caller holds the lease afterwards (or released it); 0 when another
-- scheduler holds it.
local lease_key = KEYS[1]
local scheduler_id, ttl_ms = ARGV[1], tonumber(ARGV[2])

local holder = redis.call("GET", lease_key)
if holder and holder ~= scheduler_id then
    return 0
end
if ttl_ms == 0 then
    redis.call("DEL", lease_key)
    return 1
end
redis.call("SET", lease_key, scheduler_id, "PX", ttl_ms)
return 1
