"""Draws the PNG chart of a results JSON file; runs in the peers' environment (matplotlib).

``python -m benchmarks.chart RESULTS.json CHART.png``: one panel per figure group, one
bar per system at the median, with the min–max range as an error bar.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PANELS = (
    ("Enqueue (tasks/s, higher is better)", ("enqueue_one", "enqueue_inflight", "enqueue_batch")),
    ("Drain (tasks/s, higher is better)", ("drain_noop", "drain_sleep", "drain_two")),
    ("Idle pickup (ms, log scale, lower is better)", ("pickup_p50", "pickup_p95", "pickup_p99")),
    ("Scheduled lateness (ms, log scale, lower is better)", ("late_p50", "late_p99")),
    ("Worker peak RSS (MiB, lower is better)", ("rss_peak",)),
    ("Redis commands per task (log scale, lower is better)", ("cmds_enqueue", "cmds_worker")),
)
ASYNCQ_COLOUR = "#d62728"
PEER_COLOUR = "#7f7f7f"


def draw(document: dict[str, Any], target: Path) -> None:
    systems = document["systems"]
    labels = [system["label"] for system in systems]
    columns = {metric["key"]: metric["column"] for metric in document["metrics"]}
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(13, 4.2 * len(PANELS)))
    for axis, (title, keys) in zip(axes, PANELS, strict=True):
        _panel(axis, title, keys, document, systems=systems, columns=columns)
    axes[-1].set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    figure.suptitle(f"asyncq and its peers ({document['stamp']}, noisy shared machine)")
    figure.tight_layout(rect=(0, 0, 1, 0.985))
    figure.savefig(target, dpi=90)


def _panel(
    axis: Any,
    title: str,
    keys: tuple[str, ...],
    document: dict[str, Any],
    *,
    systems: list[dict[str, Any]],
    columns: dict[str, str],
) -> None:
    width = 0.8 / len(keys)
    for offset, key in enumerate(keys):
        cells = [document["summary"][system["key"]].get(key) for system in systems]
        medians = [cell["median"] if cell else math.nan for cell in cells]
        low = [cell["median"] - cell["min"] if cell else 0.0 for cell in cells]
        high = [cell["max"] - cell["median"] if cell else 0.0 for cell in cells]
        positions = [index + (offset - (len(keys) - 1) / 2) * width for index in range(len(cells))]
        colours = [ASYNCQ_COLOUR if s["adapter"] == "asyncq" else PEER_COLOUR for s in systems]
        bars = axis.bar(
            positions, medians, width, yerr=[low, high], capsize=2, color=colours,
            alpha=1.0 - 0.25 * offset, label=columns[key],
        )  # fmt: skip
        axis.bar_label(bars, labels=[_short(cell) for cell in cells], fontsize=6, rotation=90)
    axis.set_title(title)
    if "log scale" in title:
        axis.set_yscale("log")
    axis.set_xticks(range(len(systems)), ["" for _ in systems])
    axis.legend(fontsize=7, loc="upper right")


def _short(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "n/a"
    value = cell["median"]
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.3g}"


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    draw(json.loads(source.read_text()), target)


if __name__ == "__main__":
    main()
