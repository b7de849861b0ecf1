"""The import worker: claims uploaded imports and runs them, a part at a time.

It runs in every server process by default (``MSSC_IMPORT_WORKER``), or in ``mssc worker``.
Any number share the queue through the database (``db/imports/jobs.py``: ``SKIP LOCKED``,
leases), each running up to ``CONCURRENT_IMPORTS`` imports of different organizations at once.

On shutdown, each import finishes the part it is in (a few seconds at most) and is released,
so the next process resumes it at once; a process that dies leaves its imports to be claimed
when their leases run out. A part that raises an error the worker did not expect is tried
again after a pause, by any worker, and its import FAILED after ``MAX_FAILURES`` in a row; a
database that is down fails no import (the part is tried again when it is back). Such an error
is the registry's, not the uploader's: the import shows a generic message and a reference, and
the log has the reference with the traceback. Nothing of the exception (its class, its text)
reaches the client. While it waits, and after, the imports that have not failed go first
(``claim_next``), so one failing import never holds up the other organizations'.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers.background import LoopHealth, supervised
from db.catalog.versions import CatalogStore
from db.imports.jobs import LEASE, Claim, claim_next, record_failure, release
from db.imports.parts import run_part
from db.platform.engine import is_transient

logger = logging.getLogger("mssc.imports")

CONCURRENT_IMPORTS = 2
RETRY_WAIT = timedelta(seconds=10)
SHUTDOWN_GRACE_SECONDS = 20.0


def failure_message(reference: str) -> str:
    return (
        "The registry met an unexpected error while working on this import. Quote reference "
        f"{reference} when you report it."
    )


class ImportWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        public_id: Callable[[int], str],
        poll_seconds: float = 1.0,
        lease: timedelta = LEASE,
        health: LoopHealth | None = None,
        catalogs: CatalogStore | None = None,
        retry_wait: timedelta = RETRY_WAIT,
    ) -> None:
        self.sessionmaker = sessionmaker
        # The server's own store where there is one: a version it publishes rules its imports
        # at once, and every store keeps the configured refresh interval.
        self.catalogs = catalogs or CatalogStore(sessionmaker)
        self.public_id = public_id
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.retry_wait = retry_wait
        self.health = health or LoopHealth("imports")
        self._stopping = asyncio.Event()

    async def run_once(self) -> bool:
        """Claim one import and run it until it completes, the worker stops, or the lease is
        lost. False when there was nothing to claim."""
        async with self.sessionmaker.begin() as session:
            claim = await claim_next(session, lease=self.lease)
        if claim is None:
            return False
        public_id = self.public_id(claim.import_id)
        while True:
            if self._stopping.is_set():
                async with self.sessionmaker.begin() as session:
                    await release(session, claim)
                return True
            try:
                ran = await run_part(
                    self.sessionmaker,
                    catalogs=self.catalogs,
                    claim=claim,
                    public_id=public_id,
                    now=datetime.now(UTC),
                )
            except Exception as error:
                await self._failed(claim, error, public_id)
                return True
            if ran.lost or ran.completed:
                return True

    async def _failed(self, claim: Claim, error: Exception, public_id: str) -> None:
        self.health.failed("part", error, subject=f"import {claim.import_id}")
        if isinstance(error, OSError | TimeoutError) or is_transient(error):
            return  # the lease runs out and the part is tried again; no try is counted
        reference = secrets.token_hex(6)
        logger.error(
            "import %d: a part failed (reference %s)", claim.import_id, reference, exc_info=error
        )
        message = failure_message(reference)
        with contextlib.suppress(Exception):  # if this fails too, the lease runs out
            async with self.sessionmaker.begin() as session:
                state = await record_failure(
                    session, claim, error=message, wait=self.retry_wait, public_id=public_id
                )
            if state == "FAILED":
                logger.error("import %d FAILED (reference %s)", claim.import_id, reference)

    async def run_until_idle(self) -> int:
        """Run imports until none is left to claim (tests, ``mssc`` commands). How many ran."""
        ran = 0
        while await self.run_once():
            ran += 1
        return ran

    async def _slot(self) -> None:
        while not self._stopping.is_set():
            async with self.health.step("claim"):
                if await self.run_once():
                    self.health.round_finished()
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    async def run_forever(self) -> None:
        await asyncio.gather(*(self._slot() for _ in range(CONCURRENT_IMPORTS)))

    def stop(self) -> None:
        self._stopping.set()

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return supervised(
            self.run_forever,
            health=self.health,
            stopping=self._stopping,
            name="import-worker",
            grace_seconds=SHUTDOWN_GRACE_SECONDS,
            log=logger,
            cut_off="an import part was cut off at shutdown; it runs again",
        )
