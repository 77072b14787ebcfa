"""``asyncq task``: list and inspect tasks, and run, archive, delete or cancel them."""

from __future__ import annotations

from typing import Annotated

import typer

from asyncq.cli.common import (
    JsonOption,
    QueueOption,
    TaskIdOption,
    check_paging,
    done,
    duration,
    inspect,
    print_json,
    printable,
    short,
    stdout,
    table,
    when,
)
from asyncq.inspector import Inspector
from asyncq.task import TaskInfo, TaskState

app = typer.Typer(help="Tasks: list, inspect, run, archive, delete, cancel.", no_args_is_help=True)

StateOption = Annotated[
    TaskState, typer.Option("--state", "-s", help="The tasks' state.", case_sensitive=False)
]
GroupOption = Annotated[
    str, typer.Option("--group", "-g", help="The group (needed for aggregating tasks).")
]


@app.command("ls")
def list_tasks(
    ctx: typer.Context,
    *,
    queue: QueueOption,
    state: StateOption,
    group: GroupOption = "",
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    size: Annotated[int, typer.Option(help="Tasks per page, at most 1000.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """List one page of the tasks of a queue in one state, oldest first."""
    check_paging(page, size)
    tasks = inspect(
        ctx, lambda i: i.list_tasks(queue, state, group=group, page=page, page_size=size)
    )
    if as_json:
        print_json(tasks)
        return
    if not tasks:
        stdout.print(f"No {state} tasks in queue {queue!r} on page {page}.")
        return
    table(["ID", "Type", "Payload", *_state_columns(state)], [_row(t) for t in tasks])


def _state_columns(state: TaskState) -> list[str]:
    extra = {
        TaskState.ACTIVE: ["Orphaned"],
        TaskState.SCHEDULED: ["Process at"],
        TaskState.RETRY: ["Next retry", "Retried", "Last error"],
        TaskState.ARCHIVED: ["Last failed", "Retried", "Last error"],
        TaskState.COMPLETED: ["Completed at", "Result"],
        TaskState.AGGREGATING: ["Group"],
    }
    return extra.get(state, [])


def _row(task: TaskInfo) -> list[object]:
    row: list[object] = [task.id, task.type, printable(task.payload)]
    retried = f"{task.retried}/{task.max_retry}"
    extra: dict[TaskState, list[object]] = {
        TaskState.ACTIVE: ["yes" if task.is_orphaned else "no"],
        TaskState.SCHEDULED: [short(task.next_process_at)],
        TaskState.RETRY: [short(task.next_process_at), retried, task.last_err],
        TaskState.ARCHIVED: [short(task.last_failed_at), retried, task.last_err],
        TaskState.COMPLETED: [short(task.completed_at), printable(task.result)],
        TaskState.AGGREGATING: [task.group],
    }  # fmt: skip
    return row + extra.get(task.state, [])


@app.command("inspect")
def inspect_task(
    ctx: typer.Context, queue: QueueOption, task_id: TaskIdOption, as_json: JsonOption = False
) -> None:
    """Show everything known about one task."""
    task = inspect(ctx, lambda i: i.get_task_info(queue, task_id))
    if as_json:
        print_json(task)
        return
    fields = [
        ("ID", task.id), ("Queue", task.queue), ("Type", task.type), ("State", task.state),
        ("Payload", printable(task.payload)), ("Headers", dict(task.headers) or "-"),
        ("Retried", f"{task.retried}/{task.max_retry}"), ("Last error", task.last_err or "-"),
        ("Last failed", when(task.last_failed_at)), ("Next process", when(task.next_process_at)),
        ("Timeout", duration(task.timeout)), ("Deadline", when(task.deadline)),
        ("Group", task.group or "-"), ("Retention", duration(task.retention)),
        ("Completed", when(task.completed_at)), ("Result", printable(task.result) or "-"),
    ]  # fmt: skip
    for name, value in fields:
        stdout.print(f"[bold]{name + ':':<14}[/bold]{value}", soft_wrap=True)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    task_ids: Annotated[list[str], typer.Argument(help="IDs of running tasks.")],
) -> None:
    """Ask the servers running these tasks to cancel them."""

    async def cancel_each(inspector: Inspector) -> None:
        for task_id in task_ids:
            heard = await inspector.cancel_processing(task_id)
            done(f'Sent cancellation for task "{task_id}" to {heard} listening server(s).')

    inspect(ctx, cancel_each)


@app.command("run")
def run(ctx: typer.Context, queue: QueueOption, task_id: TaskIdOption) -> None:
    """Move a task to pending so it runs soon."""
    inspect(ctx, lambda i: i.run_task(queue, task_id))
    done(f'Task "{task_id}" is now pending.')


@app.command("archive")
def archive(ctx: typer.Context, queue: QueueOption, task_id: TaskIdOption) -> None:
    """Move a task that is not running to the archive."""
    inspect(ctx, lambda i: i.archive_task(queue, task_id))
    done(f'Task "{task_id}" archived.')


@app.command("delete")
def delete(ctx: typer.Context, queue: QueueOption, task_id: TaskIdOption) -> None:
    """Delete a task that is not running."""
    inspect(ctx, lambda i: i.delete_task(queue, task_id))
    done(f'Task "{task_id}" deleted.')


@app.command("runall")
def run_all(
    ctx: typer.Context, queue: QueueOption, state: StateOption, group: GroupOption = ""
) -> None:
    """Move every scheduled, retry, archived or aggregating task to pending."""
    count = inspect(ctx, lambda i: i.run_all_tasks(queue, state, group))
    done(f"{count} {state} task(s) are now pending.")


@app.command("archiveall")
def archive_all(
    ctx: typer.Context, queue: QueueOption, state: StateOption, group: GroupOption = ""
) -> None:
    """Archive every pending, scheduled, retry or aggregating task."""
    count = inspect(ctx, lambda i: i.archive_all_tasks(queue, state, group))
    done(f"{count} {state} task(s) archived.")


@app.command("deleteall")
def delete_all(
    ctx: typer.Context, queue: QueueOption, state: StateOption, group: GroupOption = ""
) -> None:
    """Delete every task in a state other than active."""
    count = inspect(ctx, lambda i: i.delete_all_tasks(queue, state, group))
    done(f"{count} {state} task(s) deleted.")


# asynq's spellings of the same commands, so its users' habits keep working.
app.command("list", hidden=True)(list_tasks)
app.command("remove", hidden=True)(delete)
app.command("rm", hidden=True)(delete)
