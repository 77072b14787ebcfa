"""Enqueue a few tasks and run a worker that handles them; stops after they are done.

python examples/quickstart.py redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import asyncio
import json
import sys

from asyncq import ActiveTask, Client, ServeMux, Server, ServerConfig, SkipRetry, Task

mux = ServeMux()
done = asyncio.Event()
handled: list[str] = []


@mux.handle("email:welcome")
async def send_welcome(task: ActiveTask) -> None:
    user = json.loads(task.payload or b"{}")
    if "user_id" not in user:
        raise SkipRetry(f"payload {task.payload!r} has no user_id")  # archived, not retried
    await task.result_writer.write(b"sent")
    handled.append(f"welcome user {user['user_id']}")


@mux.handle("report:")
def build_report(task: ActiveTask) -> None:
    # A plain function runs in the worker's thread pool.
    handled.append(f"{task.type} in queue {task.queue}")
    if len(handled) == 3:
        done.set()


async def main(url: str) -> None:
    async with Client.from_url(url) as client:
        await client.enqueue(Task("email:welcome", b'{"user_id": 42}'), retention=3600)
        await client.enqueue(Task("report:daily"), queue="low")
        await client.enqueue(Task("report:weekly"), queue="low", process_in=1)

    config = ServerConfig(redis_url=url, concurrency=4, queues={"default": 3, "low": 1})
    server = Server(config)
    await server.start(mux)
    await asyncio.wait_for(done.wait(), timeout=30)
    await server.shutdown()
    print("\n".join(handled))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"))
