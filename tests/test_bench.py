"""``python -m bench`` end to end, on the smallest sizes: the runner, a benchmark, the table.

Timings are never asserted; only that every figure a benchmark measured reaches the table.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_runner_prints_one_table_of_the_figures_a_benchmark_measured(server_url: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MSSC_", "DATABASE_"))}
    # A fresh database on the test server, dropped afterwards (bench/database.py).
    environment["DATABASE_URL"] = server_url
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "locator"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    header, rule, *rows = finished.stdout.splitlines()
    assert header.split() == ["section", "measure", "value", "unit", "target", "met"]
    assert set(rule.replace(" ", "")) == {"-"}
    measures = [row.split("  ")[0:2] for row in rows]
    assert len(rows) >= 10, finished.stdout
    assert all(row.startswith("locator (2,000 centers)") for row in rows), measures
    assert any("page 1, 80 km: median" in row and row.rstrip().endswith("ms") for row in rows)
    # Progress and the benchmark's own table went to stderr, not into the table.
    assert "indexes used" in finished.stderr
