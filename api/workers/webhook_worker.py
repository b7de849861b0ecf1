"""The webhook delivery worker: fans the change feed out into deliveries and sends them.

It also records credential expiry (``expire_due_credentials``) about once a minute, so that
expiries reach the change feed.

It runs in every server process by default (``MSSC_WEBHOOK_WORKER``), or alone with
``mssc worker``. Any number of workers share the work through the database (row locks with
``SKIP LOCKED``, leases); none holds state that another needs.

Nothing one row does stops a round (``api/workers/background.py``): each step is guarded on its
own, one webhook's fan-out failing holds up only that webhook, and whatever goes wrong while
sending one delivery (the network, the endpoint, a malformed row, a bug) is recorded as that
delivery's failed attempt, retried with backoff and FAILED after the retry window, while the
round goes on with the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers.background import LoopHealth, supervised
from api.workers.webhook_sender import SEND_DEADLINE_SECONDS, Attempt, WebhookSender
from db.events.webhooks import LEASE, Claim, claim_due, fan_out, record_attempt
from db.registry.credentials import expire_due_credentials

logger = logging.getLogger("mssc.webhooks")

BATCH = 50
CONCURRENT_SENDS = 8
# A round's sends run CONCURRENT_SENDS at a time, each within its deadline: the last of them
# must still be inside its lease, or another worker would send it again.
assert LEASE.total_seconds() > BATCH / CONCURRENT_SENDS * SEND_DEADLINE_SECONDS
# On shutdown, sends in flight may finish and be recorded (a restart then repeats nothing);
# past this, they are cut off and their leases expire (sent again: at least once).
SHUTDOWN_GRACE_SECONDS = 15.0
# Credentials past their expiry read as EXPIRED at once; the sweep records the change (and so
# the change-feed event) within this long.
EXPIRY_SWEEP_SECONDS = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sender: WebhookSender,
        *,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        health: LoopHealth | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self.health = health or LoopHealth("webhooks")
        self._gate = asyncio.Semaphore(CONCURRENT_SENDS)
        self._stopping = asyncio.Event()
        self._last_sweep: datetime | None = None

    async def run_once(self) -> int:
        """One round: record expiries, queue new changes, send what is due. Returns attempts."""
        now = self.clock()
        if self._last_sweep is None or (now - self._last_sweep).total_seconds() >= (
            EXPIRY_SWEEP_SECONDS
        ):
            async with self.health.step("expiry"):
                async with self.sessionmaker.begin() as session:
                    await expire_due_credentials(session, now=now)
                self._last_sweep = now
        async with self.health.step("fan_out"):
            async with self.sessionmaker.begin() as session:
                report = await fan_out(session, now=self.clock())
            for webhook_id, error in report.failures:
                self.health.failed("fan_out", error, subject=f"webhook {webhook_id}")
        claims: list[Claim] = []
        async with self.health.step("claim"), self.sessionmaker.begin() as session:
            claims = await claim_due(session, now=self.clock(), limit=BATCH)
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        self.health.round_finished()
        return len(claims)

    async def _deliver(self, claim: Claim) -> None:
        async with self._gate:
            attempt = await self._send(claim)
        # If this fails too, the lease runs out and the delivery is sent again.
        async with self.health.step("record"), self.sessionmaker.begin() as session:
            await record_attempt(
                session,
                claim,
                delivered=attempt.delivered,
                status_code=attempt.status_code,
                error=attempt.error,
                now=self.clock(),
                rng=self.rng,
            )

    async def _send(self, claim: Claim) -> Attempt:
        try:
            return await self.sender.send(
                url=claim.url,
                secret=claim.secret,
                sequence=claim.sequence,
                event_type=claim.event_type,
                body=claim.body,
                attempt=claim.attempt,
            )
        except Exception as error:
            # The details go to the log; the owner learns that it was the registry's fault.
            self.health.failed("send", error, subject=f"delivery {claim.delivery_id}")
            return Attempt(
                False, None, f"the registry could not send this delivery ({type(error).__name__})"
            )

    async def run_forever(self) -> None:
        """Rounds until :meth:`stop`; a round in progress finishes first."""
        while not self._stopping.is_set():
            busy = await self.run_once()
            # A round takes each organization's next few deliveries only (claim_due's turns),
            # so one that found work is followed at once by the next.
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    def stop(self) -> None:
        self._stopping.set()

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return supervised(
            self.run_forever,
            health=self.health,
            stopping=self._stopping,
            name="webhook-worker",
            grace_seconds=SHUTDOWN_GRACE_SECONDS,
            log=logger,
            cut_off="webhook sends still in flight at shutdown; they will repeat",
        )
