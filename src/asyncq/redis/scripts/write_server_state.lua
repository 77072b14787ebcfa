-- write_server_state: publish a server's info and its in-flight tasks for inspectors.
--
-- KEYS[1] server_key      asynq:servers:{<host>:<pid>:<server ID>}
-- KEYS[2] workers_key     asynq:workers:{<host>:<pid>:<server ID>}
-- ARGV[1] ttl             whole seconds both keys live
-- ARGV[2] server_info     encoded ServerInfo
-- ARGV[...] workers       pairs: task ID, encoded WorkerInfo
--
-- Returns 1.
local server_key, workers_key = KEYS[1], KEYS[2]
local ttl, server_info = ARGV[1], ARGV[2]

redis.call("SETEX", server_key, ttl, server_info)
redis.call("DEL", workers_key)
for i = 3, #ARGV, 2 do
    redis.call("HSET", workers_key, ARGV[i], ARGV[i + 1])
end
redis.call("EXPIRE", workers_key, ttl)
return 1
