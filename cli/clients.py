"""``mssc clients …`` and ``mssc keys …``: OAuth clients and signing keys."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.schema.node import to_global_id
from api.settings import Settings
from auth import clients, keys
from auth.clients import ClientError, ClientSummary
from cli.database import bootstrap, database_for, run_with_engine
from cli.failures import CliFailure, fail
from db.platform.engine import create_sessionmaker

T = TypeVar("T")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run(engine: AsyncEngine) -> T:
        async with create_sessionmaker(engine).begin() as session:
            return await work(session)

    with database_for(settings) as settings:
        bootstrap(settings)
        try:
            return run_with_engine(settings, run)
        except ClientError as error:
            fail(error.message)


def create(args: argparse.Namespace, settings: Settings) -> None:
    # Space-separated as OAuth writes them (RFC 6749 §3.3); commas are taken too, since
    # "a,b" is how a list is usually typed on a command line.
    scopes = args.scopes.replace(",", " ").split()

    async def work(session: AsyncSession) -> clients.IssuedClient:
        return await clients.create_client(
            session,
            organization_name=args.org_name,
            organization_kind=args.org_kind,
            scopes=scopes,
            site_codes=args.site_code or [],
        )

    issued = _in_transaction(settings, work)
    organization_id = to_global_id("Organization", issued.organization_pk)
    if args.json:
        print(
            json.dumps(
                {
                    "client_id": issued.client_id,
                    "client_secret": issued.client_secret,
                    "organization_id": organization_id,
                }
            )
        )
        return
    print(f"client_id:       {issued.client_id}")
    print(f"client_secret:   {issued.client_secret}")
    print(f"organization_id: {organization_id}")
    print("The secret is shown only this once; store it now.")


def list_clients(args: argparse.Namespace, settings: Settings) -> None:
    summaries = _in_transaction(settings, clients.list_clients)
    if args.json:
        print(json.dumps([_summary_json(summary) for summary in summaries]))
        return
    for summary in summaries:
        state = "disabled" if summary.is_disabled else "active"
        print(
            f"{summary.client_id}  {state:8}  {summary.organization_kind:8}  "
            f"{summary.organization_name}  [{' '.join(summary.scopes)}]"
        )


def rotate_secret(args: argparse.Namespace, settings: Settings) -> None:
    async def work(session: AsyncSession) -> clients.IssuedSecret:
        return await clients.rotate_secret(session, args.client_id)

    issued = _in_transaction(settings, work)
    if args.json:
        print(json.dumps({"client_id": issued.client_id, "client_secret": issued.client_secret}))
        return
    print(f"client_secret: {issued.client_secret}")
    print("The old secret no longer works. The new one is shown only this once.")


def disable(args: argparse.Namespace, settings: Settings) -> None:
    async def work(session: AsyncSession) -> ClientSummary:
        return await clients.disable_client(session, args.client_id)

    summary = _in_transaction(settings, work)
    when = summary.disabled_at.isoformat() if summary.disabled_at else "?"
    print(f"client {summary.client_id} disabled at {when}; its tokens are refused from now on")


def rotate_key(args: argparse.Namespace, settings: Settings) -> None:
    source = keys.KeySource(directory=settings.data_dir / "keys", configured=settings.signing_keys)

    async def work(engine: AsyncEngine) -> str:
        return await keys.rotate(create_sessionmaker(engine), source)

    with database_for(settings) as settings:
        bootstrap(settings)
        try:
            kid = run_with_engine(settings, work)
        except keys.KeyConfigError as error:
            raise CliFailure(str(error)) from None
    print(
        f"new signing key {kid}; older keys stay published until their tokens expire "
        f"(at most {settings.access_token_ttl_seconds} s)"
    )


def generate_keys(args: argparse.Namespace, settings: Settings) -> None:
    print(json.dumps(keys.generate_private_jwks()))


def _summary_json(summary: ClientSummary) -> dict[str, Any]:
    return {
        "client_id": summary.client_id,
        "organization_id": to_global_id("Organization", summary.organization_pk),
        "organization_name": summary.organization_name,
        "organization_kind": summary.organization_kind,
        "scopes": list(summary.scopes),
        "created_at": summary.created_at.isoformat(),
        "secret_rotated_at": _iso(summary.secret_rotated_at),
        "disabled_at": _iso(summary.disabled_at),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def add_commands(commands: Any) -> None:
    clients_cmd = commands.add_parser("clients", help="manage OAuth clients")
    sub = clients_cmd.add_subparsers(dest="clients_command", required=True)

    create_cmd = sub.add_parser("create", help="create a client (and its organization if new)")
    create_cmd.add_argument("--org-name", required=True)
    create_cmd.add_argument("--org-kind", required=True, choices=["STAFF", "SCHOOL", "EMPLOYER"])
    create_cmd.add_argument(
        "--scopes", required=True, help='space- or comma-separated, e.g. "s1 s2"'
    )
    create_cmd.add_argument(
        "--site-code",
        action="append",
        metavar="CODE",
        help="an existing center the organization operates (repeatable)",
    )
    create_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    create_cmd.set_defaults(handler=create)

    list_cmd = sub.add_parser("list", help="list clients")
    list_cmd.add_argument("--json", action="store_true")
    list_cmd.set_defaults(handler=list_clients)

    rotate_cmd = sub.add_parser("rotate-secret", help="replace a client's secret")
    rotate_cmd.add_argument("client_id")
    rotate_cmd.add_argument("--json", action="store_true")
    rotate_cmd.set_defaults(handler=rotate_secret)

    disable_cmd = sub.add_parser("disable", help="disable a client and refuse its tokens")
    disable_cmd.add_argument("client_id")
    disable_cmd.set_defaults(handler=disable)

    keys_cmd = commands.add_parser("keys", help="manage access-token signing keys")
    keys_sub = keys_cmd.add_subparsers(dest="keys_command", required=True)
    rotate_key_cmd = keys_sub.add_parser(
        "rotate", help="sign new tokens with a new key; old tokens stay valid until they expire"
    )
    rotate_key_cmd.set_defaults(handler=rotate_key)
    generate_cmd = keys_sub.add_parser(
        "generate", help="print a new private key set for MSSC_SIGNING_KEYS"
    )
    generate_cmd.set_defaults(handler=generate_keys)
