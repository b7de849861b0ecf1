"""The benchmark suite in one command: every benchmark, one table.

    python -m bench [--quick] [--only NAME ...]

Runs each benchmark as its own process with ``--json`` (and ``--quick``: small sizes, for a
smoke run of the whole suite), streams their progress to stderr, and prints every figure they
measured as one table: section, measure, value, unit, target, met. A benchmark whose module
is missing from this checkout is listed as "not present"; one that fails, with its exit status.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

BENCHMARKS = (
    "verification",
    "bulk_results",
    "result_imports",
    "scale",
    "locator",
    "diagnostic",
    "document_limits",
    "exact_numbers",
)
FIELDS = ("section", "measure", "value", "unit", "target", "met")


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    measure: str
    value: str
    unit: str = ""
    target: str = ""
    met: str = ""


def run_benchmark(name: str, *, quick: bool) -> list[Row]:
    module = f"bench.{name}"
    if importlib.util.find_spec(module) is None:
        return [Row(name, "(benchmark)", "not present")]
    command = [sys.executable, "-m", module, "--json", *(["--quick"] if quick else [])]
    print(f"== {' '.join(command[1:])}", file=sys.stderr, flush=True)
    began = time.perf_counter()
    # Progress goes straight to our stderr; figures come back on stdout.
    finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    print(f"== {name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    rows = [row for line in finished.stdout.splitlines() if (row := _parse(line)) is not None]
    if finished.returncode != 0:
        rows.append(Row(name, "(benchmark)", f"failed (exit status {finished.returncode})"))
    elif not rows:
        rows.append(Row(name, "(benchmark)", "printed no figures"))
    return rows


def _parse(line: str) -> Row | None:
    try:
        figure: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(figure, dict) or not set(FIELDS) <= set(figure):
        return None
    met = {True: "yes", False: "NO", None: ""}.get(figure["met"], str(figure["met"]))
    return Row(
        str(figure["section"]),
        str(figure["measure"]),
        _number(figure["value"]),
        str(figure["unit"]),
        str(figure["target"] or ""),
        met,
    )


def _number(value: object) -> str:
    if not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def table(rows: list[Row]) -> str:
    cells = [FIELDS, *[(r.section, r.measure, r.value, r.unit, r.target, r.met) for r in rows]]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(FIELDS))]
    right = {2}  # numbers line up on the right
    lines = []
    for n, cell in enumerate(cells):
        lines.append(
            "  ".join(
                text.rjust(width) if i in right else text.ljust(width)
                for i, (text, width) in enumerate(zip(cell, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=", ".join(BENCHMARKS)
    )
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.only or BENCHMARKS:
        rows.extend(run_benchmark(name, quick=args.quick))
    print(table(rows), flush=True)


if __name__ == "__main__":
    main()
