"""Events out, for one server process: the webhook worker and the credential-signing keys
(VC-JWT and Data Integrity).

Built without I/O by ``create_app``; ``running(sessionmaker)`` (the application's lifespan)
loads the credential-signing keys and, unless disabled, starts the webhook delivery worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.workers.background import LoopHealth
from api.workers.webhook_sender import WebhookSender
from api.workers.webhook_worker import WebhookWorker
from auth.credential_keys import CredentialKeys
from auth.data_integrity_keys import DataIntegrityKeys


class EventsService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.credential_keys = CredentialKeys(
            directory=settings.data_dir / "credential-keys",
            configured=settings.credential_signing_keys,
        )
        self.data_integrity_keys = DataIntegrityKeys(
            directory=settings.data_dir / "data-integrity-keys",
            configured=settings.data_integrity_keys,
        )

    @contextlib.asynccontextmanager
    async def running(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, health: LoopHealth | None = None
    ) -> AsyncIterator[None]:
        await self.credential_keys.start(sessionmaker)
        await self.data_integrity_keys.start(sessionmaker)
        if not self.settings.webhook_worker:
            yield
            return
        sender = WebhookSender(allow_loopback=self.settings.webhook_allow_private)
        worker = WebhookWorker(
            sessionmaker, sender, poll_seconds=self.settings.webhook_poll_seconds, health=health
        )
        try:
            async with worker.running():
                yield
        finally:
            await sender.aclose()
