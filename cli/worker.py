"""``mssc worker``: webhook deliveries, credential expiry and imports, in a process of their own.

Run it with ``MSSC_WEBHOOK_WORKER=false`` (and ``MSSC_IMPORT_WORKER=false``) on the API servers
to keep outbound HTTP (and the imports' work) off them; any number of workers (and server
processes) may run at once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from api.schema.imports.result_imports import import_id
from api.settings import Settings
from api.workers.imports import ImportWorker
from api.workers.webhook_sender import WebhookSender
from api.workers.webhook_worker import WebhookWorker
from cli.database import bootstrap, database_for, run_with_engine
from db.catalog.versions import CatalogStore
from db.platform.engine import create_sessionmaker


async def run_worker(engine: AsyncEngine, settings: Settings) -> None:
    sender = WebhookSender(allow_loopback=settings.webhook_allow_private)
    sessionmaker = create_sessionmaker(engine)
    worker = WebhookWorker(sessionmaker, sender, poll_seconds=settings.webhook_poll_seconds)
    imports = ImportWorker(
        sessionmaker,
        public_id=import_id,
        poll_seconds=settings.import_poll_seconds,
        lease=timedelta(seconds=settings.import_lease_seconds),
        catalogs=CatalogStore(sessionmaker, refresh_seconds=settings.catalog_refresh_seconds),
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    try:
        async with worker.running(), imports.running():
            print("mssc: worker delivering webhooks and running imports", file=sys.stderr)
            await stopped.wait()
    finally:
        await sender.aclose()


def worker_command(args: Any, settings: Settings) -> None:
    with database_for(settings) as settings:
        bootstrap(settings)
        run_with_engine(settings, lambda engine: run_worker(engine, settings))


def add_commands(commands: Any) -> None:
    worker_cmd = commands.add_parser(
        "worker",
        help="deliver webhooks, record credential expiry and run imports (until interrupted)",
    )
    worker_cmd.set_defaults(handler=worker_command)
