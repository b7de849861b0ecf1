"""Change-feed benchmark: what the gap-free event counter costs result posting.

    python -m bench.events [--results 400] [--concurrency 1 4 16] [--rounds 3]

Builds a fresh database (an embedded PostgreSQL in a temporary directory, or a new database on
the server in DATABASE_URL, dropped afterwards), then posts passing results (one transaction
each, through ``db.registry.results.post_result``, a batch of one, so each writes a result, a
credential and two change events) from N concurrent posters, each for candidates of its own,
in three variants:

- ``counter``: as shipped, numbers from the one-row ``event_counter`` (gap-free, serialised);
- ``sequence``: the same events numbered by a PostgreSQL sequence (fast, but with gaps and
  out of commit order: what the counter buys);
- ``no events``: the change-feed hook removed (the cost of the events themselves).

Prints results per second (median of the rounds), the counter's cost against each, and how
long the counter's row lock is held per commit (from the counter statement to the end of the
commit, measured with one poster): its inverse is the ceiling on event-producing commits per
second that the counter sets. Every figure printed is measured on this run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import TextClause, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bench.database import run_on_fresh_database
from db.catalog.versions import CatalogStore
from db.events import change_feed as change_events
from db.platform.bootstrap import prepare_database
from db.platform.engine import PoolOptions, create_engine, create_sessionmaker
from db.registry.candidates import register_candidate
from db.registry.results import Poster, ResultSubmission, post_result
from tests.support.registry import add_center, add_organization


def _sequence_statement() -> TextClause:
    """The shipped statement, numbered by a sequence instead of the counter row."""
    shipped = change_events._WRITE_EVENTS.text
    without_counter = shipped[shipped.index(")\n    INSERT INTO change_events") + 1 :]
    return text(
        without_counter.replace(
            "counter.value - :count + pending.position", "nextval('bench_event_numbers')"
        ).replace("FROM counter\n    CROSS JOIN jsonb_to_recordset", "FROM jsonb_to_recordset")
    )


_WITH_SEQUENCE = _sequence_statement()


def _with_sequence(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(change_events.PENDING_KEY, None)
    if not pending:
        return
    rows = [
        {
            "position": position,
            "type": item.type.value,
            "candidate_id": item.candidate_id,
            "subject_id": item.subject_id,
            "credential_id": item.credential_id,
            "organization_id": item.organization_id,
            "data": item.data,
        }
        for position, item in enumerate(pending, start=1)
    ]
    session.execute(_WITH_SEQUENCE, {"rows": json.dumps(rows)})


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    shipped = change_events._write_pending_events
    if name == "counter":
        yield
        return
    event.remove(Session, "before_commit", shipped)
    if name == "sequence":
        event.listen(Session, "before_commit", _with_sequence)
    try:
        yield
    finally:
        if name == "sequence":
            event.remove(Session, "before_commit", _with_sequence)
        event.listen(Session, "before_commit", shipped)


async def prepare(sessionmaker: async_sessionmaker[AsyncSession]) -> Poster:
    async with sessionmaker.begin() as session:
        organization_id = await add_organization(session, "Bench School")
        await add_center(session, site_code="BENCH-1", organization_id=organization_id)
        # Far above the counter's numbers, so that the variants never collide.
        await session.execute(
            text("CREATE SEQUENCE IF NOT EXISTS bench_event_numbers START 1000000000000")
        )
    return Poster(organization_id=organization_id, organization_kind="SCHOOL", client_pk=None)


async def register(
    sessionmaker: async_sessionmaker[AsyncSession], poster: Poster, label: str, count: int
) -> list[str]:
    """New candidates for a round (not timed): each result then earns a first certificate."""
    ids = [f"{label}-C{n}" for n in range(count)]
    async with sessionmaker.begin() as session:
        for external_id in ids:
            await register_candidate(
                session,
                organization_id=poster.organization_id,
                external_id=external_id,
                given_name="Ana",
                family_name="Rivera",
                email=None,
            )
    return ids


async def post_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    catalogs: CatalogStore,
    poster: Poster,
    *,
    candidates: list[str],
    concurrency: int,
) -> float:
    """One passing SAFETY result per candidate from ``concurrency`` posters; results/second."""
    now = datetime.now(UTC)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for candidate in candidates:
        queue.put_nowait(candidate)

    async def poster_task() -> None:
        while not queue.empty():
            candidate = queue.get_nowait()
            submission = ResultSubmission(
                external_id=f"R-{candidate}",
                candidate_external_id=candidate,
                module_code="SAFETY",
                center_site_code="BENCH-1",
                taken_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
                score_percent=Decimal(95),
            )
            outcome = await post_result(
                sessionmaker, catalogs=catalogs, poster=poster, submission=submission, now=now
            )
            assert outcome.status == "CREATED", outcome.problems
            assert len(outcome.credentials_issued) == 1

    started = time.perf_counter()
    await asyncio.gather(*(poster_task() for _ in range(concurrency)))
    return len(candidates) / (time.perf_counter() - started)


class LockWindow:
    """Time from the counter statement to the end of the commit: how long the counter's row
    lock is held, hence the ceiling on event-producing commits per second (1 / window).
    Measured with one poster, so that no transaction waits for another."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.started: float | None = None
        self.windows: list[float] = []

    def _statement(self, *args: object) -> None:
        if "INSERT INTO event_counter" in str(args[2]):
            self.started = time.perf_counter()

    def _committed(self, session: Session) -> None:
        if self.started is not None:
            self.windows.append(time.perf_counter() - self.started)
            self.started = None

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(Session, "after_commit", self._committed)
        try:
            yield
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._statement)
            event.remove(Session, "after_commit", self._committed)


async def run(url: str, args: argparse.Namespace) -> None:
    engine: AsyncEngine = create_engine(url, PoolOptions(pool_size=max(args.concurrency) + 2))
    try:
        await prepare_database(engine)
        sessionmaker = create_sessionmaker(engine)
        poster = await prepare(sessionmaker)
        catalogs = CatalogStore(sessionmaker)
        names = ("counter", "sequence", "no events")
        measured: dict[tuple[str, int], list[float]] = {}
        round_number = 0
        lock = LockWindow(engine)
        for _ in range(args.rounds):
            for concurrency in args.concurrency:
                for name in names:  # interleaved, so drift hits every variant alike
                    round_number += 1
                    candidates = await register(
                        sessionmaker, poster, f"r{round_number}", args.results
                    )
                    window = lock.measuring() if (name, concurrency) == ("counter", 1) else None
                    with variant(name), window or contextlib.nullcontext():
                        rate = await post_all(
                            sessionmaker,
                            catalogs,
                            poster,
                            candidates=candidates,
                            concurrency=concurrency,
                        )
                    measured.setdefault((name, concurrency), []).append(rate)
        print(
            f"{args.results} passing results per round (each: 1 result, 1 credential, "
            f"2 change events), median of {args.rounds} rounds"
        )
        print(f"{'posters':>8} {'counter':>10} {'sequence':>10} {'no events':>10}   counter cost")
        for concurrency in args.concurrency:
            row = [statistics.median(measured[(name, concurrency)]) for name in names]
            print(
                f"{concurrency:>8} {row[0]:>8.0f}/s {row[1]:>8.0f}/s {row[2]:>8.0f}/s   "
                f"{1 - row[0] / row[1]:+.0%} vs sequence, {1 - row[0] / row[2]:+.0%} vs no events"
            )
        if lock.windows:
            windows = sorted(lock.windows)
            median = statistics.median(windows)
            p95 = windows[int(len(windows) * 0.95)]
            print(
                f"counter lock held per commit: median {median * 1000:.2f} ms, "
                f"p95 {p95 * 1000:.2f} ms -> at most ~{1 / median:.0f} event-producing "
                "commits per second, whatever the number of posters"
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run_on_fresh_database(lambda url: run(url, args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
