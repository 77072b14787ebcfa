"""``python -m benchmarks.run [--quick]``: measure asyncq beside its peers and report.

Starts one private Redis on a loopback port, creates the peers' environments when needed,
runs every figure for every system (interleaved run by run, so a noisy minute hurts all
alike), then prints one table and writes ``benchmarks/results/`` (JSON, a Markdown table
and a PNG chart). ``--quick`` runs a reduced version in under two minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from asyncq.devserver import RedisProcess
from benchmarks import report
from benchmarks.context import FULL, QUICK, Context, Plan
from benchmarks.environments import BENCH_DIR, ROOT, ensure_peer_environments, python_of
from benchmarks.figures import cleanup, drain, enqueue, inspector, memory, pickup, roundtrips
from benchmarks.metrics import METRICS
from benchmarks.processes import BenchmarkError
from benchmarks.systems import System, select

FIGURES: tuple[ModuleType, ...] = (enqueue, drain, pickup, roundtrips, memory)
RESULTS = BENCH_DIR / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run, under 2 minutes")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3, quick 1)")
    parser.add_argument("--systems", help="comma-separated system keys (default: all)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    plan = QUICK if args.quick else FULL
    if args.runs:
        plan = dataclasses.replace(plan, runs=args.runs)
    systems = select(args.systems.split(",") if args.systems else None)
    ensure_peer_environments()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    started = time.monotonic()
    server = RedisProcess().start()
    ctx = Context(plan, server.url, RESULTS / "logs" / stamp)
    try:
        runs, errors = measure_all(ctx, systems)
    finally:
        ctx.close()
        server.stop()

    seconds = time.monotonic() - started
    document = build_document(plan, systems, runs, errors=errors, stamp=stamp, seconds=seconds)
    publish(document, stamp)


def measure_all(ctx: Context, systems: tuple[System, ...]) -> tuple[report.Runs, list[str]]:
    """Every figure of every system, ``plan.runs`` times; failures are recorded, not fatal."""
    count = ctx.plan.runs
    runs: report.Runs = {s.key: {m.key: [None] * count for m in METRICS} for s in systems}
    errors: list[str] = []
    for run in range(count):
        for system in systems:
            for figure in FIGURES:
                name = figure.__name__.rsplit(".", 1)[-1]
                _progress(f"run {run + 1}/{count}: {system.key} {name}")
                ctx.use_log(f"{system.key}-{name}")
                try:
                    values = figure.measure(ctx, system)
                except (BenchmarkError, subprocess.TimeoutExpired) as error:
                    errors.append(f"run {run + 1}, {system.key}, {name}: {error}")
                    _progress(f"  failed: {error}")
                    continue
                for key, value in values.items():
                    runs[system.key][key][run] = value
    if any(system.key == "asyncq" for system in systems):
        for name, figure in (("inspector", inspector), ("cleanup", cleanup)):
            errors += _measure_once(ctx, name, figure, runs["asyncq"])
    return runs, errors


def _measure_once(
    ctx: Context, name: str, figure: ModuleType, figures: dict[str, list[float | None]]
) -> list[str]:
    """A figure that prepares its data once and times itself once per run."""
    _progress(f"asyncq {name}")
    ctx.use_log(f"asyncq-{name}")
    try:
        figures.update(figure.measure(ctx))
    except Exception as error:  # one failing figure must not lose the others
        _progress(f"  failed: {error!r}")
        return [f"asyncq {name}: {error!r}"]
    return []


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_document(
    plan: Plan,
    systems: tuple[System, ...],
    runs: report.Runs,
    *,
    errors: list[str],
    stamp: str,
    seconds: float,
) -> dict[str, Any]:
    ratios = report.per_run_ratios(systems, runs, plan.runs)
    return {
        "stamp": stamp,
        "seconds": round(seconds, 1),
        "machine": {"cpus": _cpu_count(), "python": platform.python_version()},
        "redis": _redis_version(),
        "plan": dataclasses.asdict(plan),
        "systems": [dataclasses.asdict(system) for system in systems],
        "metrics": report.metric_legend(),
        "runs": runs,
        "summary": report.summarize(runs),
        "ratios": report.summarize(ratios),
        "errors": errors,
    }


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _redis_version() -> str:
    from asyncq.devserver import find_redis_server

    done = subprocess.run([find_redis_server(), "--version"], capture_output=True, check=False)
    return done.stdout.decode(errors="replace").strip()


def publish(document: dict[str, Any], stamp: str) -> None:
    """Write JSON, Markdown and the chart, and print the table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    systems = tuple(System(**fields) for fields in document["systems"])
    header, table = report.rows(systems, document["summary"], document["ratios"])
    text = report.markdown(header, table)

    for name in (f"bench-{stamp}", "latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
        (RESULTS / f"{name}.md").write_text(text)
    chart = _draw_chart(RESULTS / "latest.json", RESULTS / f"bench-{stamp}.png")

    print_table(*report.rows(systems, document["summary"], document["ratios"], sep="\n"))
    for error in document["errors"]:
        print(f"failed: {error}")
    print(f"\n{document['seconds']:.0f} s; results in {RESULTS.relative_to(ROOT)}/", end="")
    print(f" (chart: {chart.name})" if chart else " (no chart: see the log)")


def _draw_chart(source: Path, target: Path) -> Path | None:
    python = python_of("peers")
    argv = [str(python), "-m", "benchmarks.chart", str(source), str(target)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        print(done.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
        return None
    (RESULTS / "latest.png").write_bytes(target.read_bytes())
    return target


def print_table(header: list[str], table: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    grid = Table(title="asyncq and its peers, measured in one run", show_lines=True)
    grid.add_column(header[0], max_width=24)
    for column in header[1:]:
        grid.add_column(column, max_width=13, overflow="fold")
    for row in table:
        grid.add_row(*row)
    Console(width=max(210, Console().width)).print(grid)


if __name__ == "__main__":
    main()
