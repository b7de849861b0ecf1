"""Exact-number benchmark: what reading a flood of exponent numbers costs, before and after.

    python -m bench.exact_numbers [--count 520000] [--repeats 5] [--json] [--quick]

The body of issue 14 (#14, item B.3 of the red team): ``{"query":"{__typename}",
"variables":{"x":[1e1,1e1,...]}}``, 2 MB of ``1e1`` in an unused variable, sent without a
token. For it and for the same body of integers, prints the CPU time (``time.process_time``,
the best of ``--repeats``) of reading the request body as ``POST /graphql`` reads it
(``api/graphql/over_http.params_from_body`` with ``decode_exact``), and of the reading before
the cap (orjson, then the standard library's exact re-read of every number), which the cap
now refuses instead of running.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import orjson

from api.exact_numbers import ExactFloat
from api.graphql import over_http
from api.graphql.exact_json import decode_exact
from bench.output import Figure, Output

SECTION = "exact numbers"


def flood(count: int, number: str) -> bytes:
    return (
        '{"query":"{__typename}","variables":{"x":[' + ",".join([number] * count) + "]}}"
    ).encode()


def read_as_served(body: bytes) -> str:
    try:
        over_http.params_from_body(body, decode_exact)
    except over_http.RequestError as error:
        return f"refused {error.status}"
    return "read"


def read_uncapped(body: bytes) -> str:
    """The reading before the cap: every number read again, exactly."""
    orjson.loads(body)
    json.loads(body.decode(), parse_float=ExactFloat)
    return "read"


def cpu_of(read: Callable[[bytes], str], body: bytes, repeats: int) -> tuple[float, str]:
    best, answer = float("inf"), ""
    for _ in range(repeats):
        started = time.process_time()
        answer = read(body)
        best = min(best, time.process_time() - started)
    return best, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=520_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    output = Output(as_json=args.json)
    cases = (
        ("exponents, before the cap", read_uncapped, "1e1"),
        ("exponents, as served", read_as_served, "1e1"),
        ("integers, as served", read_as_served, "10"),
    )
    for name, read, number in cases:
        body = flood(args.count, number)
        seconds, answer = cpu_of(read, body, args.repeats)
        output.log(f"{name:28} {len(body):>9} bytes  {seconds * 1000:8.1f} ms CPU  ({answer})")
        output.figure(Figure(SECTION, f"{args.count} {name}", round(seconds * 1000, 1), "ms"))


if __name__ == "__main__":
    main()
