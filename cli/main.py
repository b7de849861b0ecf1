"""The ``mssc`` command line."""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import logging
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from api.settings import Settings, SettingsError
from cli import clients, persisted, worker
from cli.database import bootstrap, database_for, run_with_engine
from cli.failures import CliFailure, fail, report

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                fail(
                    f"port {port} on {host} is already in use; stop the other server or pass --port"
                )
            fail(f"cannot listen on {host}:{port} ({error.strerror})")


def serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    class GracefulServer(uvicorn.Server):
        """Uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which would end the
        process before the embedded database is stopped; return normally instead."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    from api.app import create_app
    from api.http.logs import configure_logging

    settings = settings.serving_at(args.host, args.port)
    _check_port_free(args.host, args.port)
    configure_logging(settings)
    with database_for(settings) as settings:
        bootstrap(settings)
        if args.demo:
            from cli.demo import load_demo

            load_demo(settings, served_at=settings.issuer)
        workers = f" with {args.workers} worker processes" if args.workers > 1 else ""
        print(f"mssc: serving on http://{args.host}:{args.port}/graphql{workers}", file=sys.stderr)
        config = uvicorn.Config(
            # A factory, not an app: each worker process builds its own (pool, caches, keys).
            functools.partial(create_app, settings),
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # The supervisor pings each worker and replaces one that does not answer in time; a
            # worker spawned on a busy machine spends longer than uvicorn's 5 s importing the
            # app, and was replaced again and again before it ever served.
            timeout_worker_healthcheck=30,
            loop="uvloop",
            http="httptools",
            log_config=None,  # uvicorn's loggers go through ours (api/http/logs.py)
            access_log=False,  # api/http/observability.py writes one access line per request
            server_header=False,
            # No WebSocket route exists: an upgrade request is then an ordinary request that
            # the application answers (with its request id and security headers), not a 403
            # uvicorn writes on its own.
            ws="none",
            **proxy_options(settings),
        )
        if args.workers > 1:
            from uvicorn.supervisors import Multiprocess

            # Uvicorn's supervisor: workers share the listening socket, a dead one is
            # replaced, SIGTERM stops them all; this process keeps the embedded database.
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            GracefulServer(config).run()


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Whose ``X-Forwarded-For`` uvicorn believes: the configured proxies' only.

    The address it settles on is the one the brute-force and anonymous rate limits count by.
    Uvicorn's own default believes any caller on the loopback interface; here nobody is
    believed until ``FORWARDED_ALLOW_IPS`` names the proxies.
    """
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }


def load_catalog_file(args: argparse.Namespace, settings: Settings) -> None:
    from db.catalog.document import CatalogFileError, read_catalog_file
    from db.catalog.versions import load_catalog
    from db.platform.engine import create_sessionmaker

    try:
        document = read_catalog_file(Path(args.file))
    except CatalogFileError as error:
        fail(f"catalog: {error}")

    async def work(engine: object) -> bool:
        from sqlalchemy.ext.asyncio import AsyncEngine

        assert isinstance(engine, AsyncEngine)
        async with create_sessionmaker(engine).begin() as session:
            return await load_catalog(session, document)

    with database_for(settings) as settings:
        bootstrap(settings)
        try:
            loaded = run_with_engine(settings, work)
        except CatalogFileError as error:
            fail(f"catalog: {error}")
    state = "loaded" if loaded else "already loaded, unchanged"
    print(f"catalog version {document.label} (effective {document.effective_from}): {state}")


def import_results_file(args: argparse.Namespace, settings: Settings) -> None:
    from cli.results_import import import_results

    path = Path(args.file)
    with database_for(settings) as settings:
        bootstrap(settings)
        counts = run_with_engine(
            settings, lambda engine: import_results(engine, path=path, client_id=args.client_id)
        )
    if counts["REJECTED"]:
        raise SystemExit(1)


def run_maintenance(args: argparse.Namespace, settings: Settings) -> None:
    from api.workers.background import LoopHealth
    from api.workers.maintenance import run_once
    from db.platform.engine import create_sessionmaker

    health = LoopHealth("maintenance")
    with database_for(settings) as settings:
        bootstrap(settings)
        expired, purged = run_with_engine(
            settings, lambda engine: run_once(create_sessionmaker(engine), health=health)
        )
    print(f"{expired} credentials expired, {purged} idempotency keys purged")
    if health.last_round_failed:
        raise SystemExit("mssc: a maintenance step failed (see the log)")


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mssc", description="National certification registry")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the API server")
    serve_cmd.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )
    serve_cmd.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on (default 8000); without MSSC_ISSUER, development URLs follow it",
    )
    serve_cmd.add_argument(
        "--demo", action="store_true", help="also load the demo data set (idempotent)"
    )
    serve_cmd.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes sharing the port (default 1); see the README on pool sizes",
    )
    serve_cmd.set_defaults(handler=serve)

    catalog_cmd = commands.add_parser("catalog", help="manage catalog versions")
    catalog_sub = catalog_cmd.add_subparsers(dest="catalog_command", required=True)
    load_cmd = catalog_sub.add_parser(
        "load", help="publish a catalog version from a TOML file (or *.json, its JSON equivalent)"
    )
    load_cmd.add_argument("file")
    load_cmd.set_defaults(handler=load_catalog_file)

    maintenance_cmd = commands.add_parser(
        "maintenance",
        help="record credential expiries and purge stale keys now (servers also do it every 5 min)",
    )
    maintenance_cmd.set_defaults(handler=run_maintenance)

    results_cmd = commands.add_parser("results", help="assessment results")
    results_sub = results_cmd.add_subparsers(dest="results_command", required=True)
    import_cmd = results_sub.add_parser(
        "import",
        help="post results from a CSV file (safe to re-run)",
        description=(
            "Columns: externalId, candidateExternalId, moduleCode, centerSiteCode, takenAt, "
            "and correctAnswers or scorePercent; optional activityScores as 1:80;2:72.5. "
            "Rejected rows go to FILE.rejected.csv with their reasons; exit status 1 if any."
        ),
    )
    import_cmd.add_argument("file")
    import_cmd.add_argument("--client-id", required=True, help="the school's OAuth client id")
    import_cmd.set_defaults(handler=import_results_file)

    clients.add_commands(commands)
    worker.add_commands(commands)
    persisted.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        args.handler(args, settings)
    except SettingsError as error:
        report(CliFailure(str(error)))
    except CliFailure as failure:
        report(failure)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
