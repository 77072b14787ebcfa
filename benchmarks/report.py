"""Turns the runs into medians with min–max, ratios to the best peer, a table and JSON.

A ratio compares asyncq with the best peer of the same run (highest rate, or lowest time,
memory or command count), and the table shows the median of those per-run ratios: a ratio
above 1 means more for rates and more for costs, so read it with the column's direction.
"""

from __future__ import annotations

from typing import Any

from benchmarks.metrics import METRICS, Metric
from benchmarks.stats import summary
from benchmarks.systems import System

Runs = dict[str, dict[str, list[float | None]]]


def per_run_ratios(systems: tuple[System, ...], runs: Runs, count: int) -> Runs:
    """For each asyncq system and metric, asyncq's value over the best peer's, run by run."""
    peers = [system for system in systems if not system.is_asyncq]
    ratios: Runs = {}
    for system in systems:
        if not system.is_asyncq:
            continue
        ratios[system.key] = {}
        for metric in METRICS:
            ratios[system.key][metric.key] = [
                _ratio(metric, runs, system, peers, run) for run in range(count)
            ]
    return ratios


def _ratio(
    metric: Metric, runs: Runs, system: System, peers: list[System], run: int
) -> float | None:
    own = runs[system.key].get(metric.key, [None] * (run + 1))[run]
    values = [runs[peer.key].get(metric.key, [None] * (run + 1))[run] for peer in peers]
    present = [value for value in values if value is not None]
    if own is None or not present:
        return None
    best = max(present) if metric.higher_is_better else min(present)
    return own / best if best else None


def summarize(runs: Runs) -> dict[str, dict[str, Any]]:
    return {
        key: {metric: summary(values) for metric, values in figures.items()}
        for key, figures in runs.items()
    }


def format_number(value: float) -> str:
    """Three significant digits at most, with ``k`` for thousands."""
    if abs(value) >= 10_000:
        return f"{value / 1000:.1f}k"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def format_cell(cell: dict[str, Any] | None, ratio: bool = False, sep: str = " ") -> str:
    """``median (min–max)``; ``sep`` joins the two parts (a newline in the terminal)."""
    if cell is None:
        return "—"
    median = format_number(cell["median"]) + ("×" if ratio else "")
    if cell["runs"] < 2:
        return median
    return f"{median}{sep}({format_number(cell['min'])}–{format_number(cell['max'])})"


def shown_metrics(summaries: dict[str, dict[str, Any]]) -> list[Metric]:
    """The metrics that at least one system has a value for, in the suite's order."""
    return [
        metric
        for metric in METRICS
        if any(figures.get(metric.key) for figures in summaries.values())
    ]


def rows(
    systems: tuple[System, ...],
    summaries: dict[str, dict[str, Any]],
    ratios: dict[str, dict[str, Any]],
    sep: str = " ",
) -> tuple[list[str], list[list[str]]]:
    """The table: one column per system and per asyncq ratio, one row per metric.

    The first row states each system's settings.
    """
    metrics = shown_metrics(summaries)
    labels = {system.key: system.label for system in systems}
    header = ["figure", *labels.values(), *(f"{labels[key]} ÷ best peer" for key in ratios)]
    table = [["settings", *(s.settings for s in systems), *("same run" for _ in ratios)]]
    for metric in metrics:
        cells = [format_cell(summaries[s.key].get(metric.key), sep=sep) for s in systems]
        cells += [format_cell(figures.get(metric.key), True, sep) for figures in ratios.values()]
        table.append([f"{metric.column} ({metric.unit})", *cells])
    return header, table


def markdown(header: list[str], table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines) + "\n"


def metric_legend() -> list[dict[str, Any]]:
    return [
        {"key": m.key, "column": m.column, "unit": m.unit, "higher_is_better": m.higher_is_better}
        for m in METRICS
    ]
