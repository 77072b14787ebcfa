"""``python -m benchmarks.adapters NAME COMMAND ...``: run one adapter's command line.

Importing the adapter module by its package name (rather than running it as ``__main__``)
gives its task functions a stable import path, which RQ, Celery, Dramatiq and Huey need.
"""

from __future__ import annotations

import importlib
import sys

from benchmarks.adapters.base import main


def run() -> None:
    name = sys.argv.pop(1)
    module = importlib.import_module(f"benchmarks.adapters.{name}")
    main(module.ADAPTER)


if __name__ == "__main__":
    run()
