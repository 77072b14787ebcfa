-- clear_server_state: delete a server's info and its in-flight task records.
--
-- KEYS[1] server_key      asynq:servers:{<host>:<pid>:<server ID>}
-- KEYS[2] workers_key     asynq:workers:{<host>:<pid>:<server ID>}
--
-- Returns 1.
local server_key, workers_key = KEYS[1], KEYS[2]

redis.call("DEL", server_key, workers_key)
return 1
