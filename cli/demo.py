"""``mssc serve --demo``: load the demo data set after migrations and the catalog.

The demo is a list of steps, each in its own transaction and each idempotent, so serving with
``--demo`` twice loads nothing twice:

1. ``network_step``: organizations, centers with their authorization history, instructors,
   proctors (``db/demo``).
2. The registry engine adds its step after the network: candidates and their results, posted
   through the same rules code that ``postResults`` uses (never a simplified copy), so the
   demo's credentials are exactly what the rules issue. Append it to ``DEMO_STEPS``.
3. The OAuth work adds the demo clients (one per demo organization, created idempotently) as a
   step, and prints their credentials in ``load_demo`` where marked.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.settings import Settings
from cli.database import run_with_engine
from cli.failures import CliFailure
from db.demo.load import DemoConflict, load_network
from db.demo.network import plan_network
from db.engine import create_sessionmaker

DemoStep = Callable[[AsyncSession, date], Awaitable[str]]
"""Loads (or finds) one part of the demo as of the given day; returns a line for the log."""


async def network_step(session: AsyncSession, day: date) -> str:
    plan = plan_network(day=day)
    load = await load_network(session, plan)
    what = (
        f"{load.centers:,} centers ({load.authorizations:,} authorizations), "
        f"{load.instructors:,} instructors, {load.proctors:,} proctors and site coordinators"
    )
    return f"network: {what} {'loaded' if load.created else 'already loaded'}"


DEMO_STEPS: tuple[DemoStep, ...] = (network_step,)


def load_demo(settings: Settings, *, day: date | None = None) -> None:
    """Load every demo step into the database ``settings`` names (already bootstrapped)."""
    as_of = day or datetime.now(UTC).date()

    async def work(engine: AsyncEngine) -> list[str]:
        sessionmaker = create_sessionmaker(engine)
        lines = []
        for step in DEMO_STEPS:
            started = time.perf_counter()
            async with sessionmaker.begin() as session:
                line = await step(session, as_of)
            lines.append(f"{line} in {time.perf_counter() - started:.1f} s")
        return lines

    try:
        lines = run_with_engine(settings, work)
    except DemoConflict as conflict:
        raise CliFailure(f"demo: {conflict}") from None
    for line in lines:
        print(f"mssc: demo {line}", file=sys.stderr)
    # The OAuth work prints the demo clients' credentials here.
