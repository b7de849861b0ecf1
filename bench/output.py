"""What every benchmark prints: human lines on stderr, and with ``--json`` one figure a line.

The runner (``python -m bench``) reads the JSON lines of each benchmark and prints them as one
table; a figure is always measured on the run that prints it, never a constant.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    section: str
    measure: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


class Output:
    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json

    def log(self, line: str) -> None:
        """A human line: stdout normally, stderr when stdout carries JSON."""
        print(line, file=sys.stderr if self.as_json else sys.stdout, flush=True)

    def figure(self, figure: Figure) -> None:
        if self.as_json:
            print(json.dumps(asdict(figure)), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
