"""The peers' virtual environments, created by the suite and never project dependencies.

``benchmarks/.peers-venv/peers`` holds every peer but arq and matplotlib for the chart;
``benchmarks/.peers-venv/arq`` holds arq alone, because arq pins ``redis<6`` while Celery's
Redis transport needs ``redis>=6.4``. Each environment is rebuilt when its pinned
requirements file changes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from benchmarks.systems import System

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
VENVS_DIR = BENCH_DIR / ".peers-venv"
REQUIREMENTS = {
    "peers": BENCH_DIR / "peers-requirements.txt",
    "arq": BENCH_DIR / "peers-requirements-arq.txt",
}


def python_of(env: str) -> Path:
    """The Python that runs adapters of the environment ``env``."""
    if env == "project":
        return Path(sys.executable)
    return VENVS_DIR / env / "bin" / "python"


def python_for(system: System) -> Path:
    return python_of(system.env)


def ensure_peer_environments() -> None:
    """Create or refresh every peer environment whose requirements changed."""
    for env, requirements in REQUIREMENTS.items():
        _ensure(VENVS_DIR / env, requirements)


def _ensure(venv: Path, requirements: Path) -> None:
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv / ".requirements-sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return

    print(f"Installing the peers from {requirements.name} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    stamp.write_text(digest + "\n")
