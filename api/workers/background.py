"""Background loops (the webhook worker, maintenance): no failure stops one, and every
failure shows in ``/metrics``.

A loop works in rounds made of steps (record expiries, fan out, claim, send, record). A step
that raises is logged and counted, and the round goes on with the next step; a loop whose
body raises anyway is started again after ``RESTART_SECONDS``. For each loop, ``/metrics``
shows:

- ``mssc_background_rounds_total{loop}``: rounds finished;
- ``mssc_background_failures_total{loop,step}``: steps that raised;
- ``mssc_background_last_success_timestamp_seconds{loop}``: when a round last finished with
  no step failing (alert when it is older than a few rounds: the loop is failing or stuck);
- ``mssc_background_restarts_total{loop}``: loop bodies started again after a crash.

A step that keeps failing (the database is down) logs its traceback once, then a line at
most every ``LOG_EVERY_SECONDS``, not every round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

logger = logging.getLogger("mssc.background")

RESTART_SECONDS = 5.0
LOG_EVERY_SECONDS = 60.0


class BackgroundMetrics:
    """The loops' metric families, on the application's registry (or a private one)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.rounds = Counter(
            "mssc_background_rounds",
            "Rounds a background loop finished",
            ["loop"],
            registry=registry,
        )
        self.failures = Counter(
            "mssc_background_failures",
            "Steps of a background loop that raised",
            ["loop", "step"],
            registry=registry,
        )
        self.last_success = Gauge(
            "mssc_background_last_success_timestamp_seconds",
            "When a background loop last finished a round with no step failing",
            ["loop"],
            registry=registry,
        )
        self.restarts = Counter(
            "mssc_background_restarts",
            "Background loop bodies started again after a crash",
            ["loop"],
            registry=registry,
        )

    def loop(self, name: str) -> LoopHealth:
        return LoopHealth(name, self)


class LoopHealth:
    """One loop's bookkeeping: steps that fail, rounds that finish, restarts."""

    def __init__(self, name: str, metrics: BackgroundMetrics | None = None) -> None:
        self.name = name
        self._metrics = metrics or BackgroundMetrics()
        self._round_failed = False
        self.last_round_failed = False
        # Per step: failures since it last succeeded, and when one was last logged.
        self._failing: dict[str, tuple[int, float]] = {}

    @contextlib.asynccontextmanager
    async def step(self, step: str) -> AsyncIterator[None]:
        """Runs the block; if it raises, the failure is recorded and the caller goes on."""
        before = self._failing.get(step)
        try:
            yield
        except Exception as error:
            self.failed(step, error)
        else:
            if self._failing.get(step) == before:  # nothing inside it reported a failure
                self._failing.pop(step, None)

    def failed(self, step: str, error: BaseException, *, subject: str = "") -> None:
        self._metrics.failures.labels(self.name, step).inc()
        self._round_failed = True
        count, logged_at = self._failing.get(step, (0, 0.0))
        now = time.monotonic()
        where = f"{self.name}: {step}{f' ({subject})' if subject else ''}"
        if count == 0:
            logger.error("%s failed", where, exc_info=error)
            logged_at = now
        elif now - logged_at >= LOG_EVERY_SECONDS:
            logger.error("%s still failing (%d times): %s", where, count + 1, error)
            logged_at = now
        self._failing[step] = (count + 1, logged_at)

    def round_finished(self) -> None:
        self._metrics.rounds.labels(self.name).inc()
        if not self._round_failed:
            self._metrics.last_success.labels(self.name).set(time.time())
        self.last_round_failed, self._round_failed = self._round_failed, False

    def restarted(self) -> None:
        self._metrics.restarts.labels(self.name).inc()


async def supervise(
    run: Callable[[], Awaitable[None]],
    *,
    health: LoopHealth,
    stopping: asyncio.Event | None = None,
    restart_seconds: float = RESTART_SECONDS,
) -> None:
    """Runs ``run()`` until it returns (or the task is cancelled); after a crash, again."""
    stopping = stopping or asyncio.Event()
    while True:
        try:
            await run()
            return
        except Exception:
            logger.exception("%s: the loop crashed; starting it again", health.name)
            health.restarted()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), restart_seconds)
        if stopping.is_set():
            return


@contextlib.asynccontextmanager
async def supervised(
    run: Callable[[], Awaitable[None]],
    *,
    health: LoopHealth,
    stopping: asyncio.Event,
    name: str,
    grace_seconds: float,
    log: logging.Logger,
    cut_off: str,
) -> AsyncIterator[None]:
    """:func:`supervise` ``run`` in a task while the block runs. On leaving, ``stopping`` is set
    and the round in progress has ``grace_seconds`` to finish; past that it is cut off and
    ``cut_off`` is logged on ``log``, the worker's own logger."""
    task = asyncio.create_task(supervise(run, health=health, stopping=stopping), name=name)
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(task, grace_seconds)
        except TimeoutError:
            log.warning(cut_off)
