"""OAuth clients and the organizations they act for: the rules both the CLI and GraphQL use.

Functions add and flush; the caller owns the transaction. Secrets leave this module only in
the value returned by the call that made them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.client_secrets import generate_client_id, generate_secret, hash_secret
from auth.scopes import SCOPE_HOLDERS, UnknownScopeError, parse_scopes
from db import models

MAX_ORGANIZATION_NAME = 200


class ClientError(Exception):
    """A request the rules refuse; ``code`` is a contract ``UserError`` code."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class IssuedClient:
    """A new client, with the only copy of its secret the registry will ever hand out."""

    client_id: str
    client_secret: str
    client_pk: int
    organization_pk: int


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class ClientSummary:
    client_id: str
    client_pk: int
    organization_pk: int
    organization_name: str
    organization_kind: str
    scopes: tuple[str, ...]
    created_at: datetime
    secret_rotated_at: datetime | None
    disabled_at: datetime | None

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What authenticating a client needs: loaded once per token, revoke or introspect call."""

    client_id: str
    client_pk: int
    organization_pk: int
    organization_kind: str
    scopes: tuple[str, ...]
    secret_hash: str
    is_disabled: bool


async def create_client(
    session: AsyncSession,
    *,
    organization_name: str,
    organization_kind: str,
    scopes: Iterable[str],
    site_codes: Sequence[str] = (),
) -> IssuedClient:
    """Create a client for the named organization, creating the organization if it is new.

    ``site_codes`` name existing centers the organization operates; a center already operated
    by another organization is refused rather than moved.
    """
    granted = _checked_scopes(scopes, organization_kind=organization_kind)
    organization = await find_or_create_organization(
        session, name=organization_name, kind=organization_kind
    )
    if site_codes:
        await assign_centers(session, organization_pk=organization.id, site_codes=site_codes)
    secret = generate_secret()
    client = models.OAuthClient(
        client_id=generate_client_id(),
        organization_id=organization.id,
        secret_hash=hash_secret(secret),
        scopes=list(granted),
    )
    session.add(client)
    await session.flush()
    return IssuedClient(
        client_id=client.client_id,
        client_secret=secret,
        client_pk=client.id,
        organization_pk=organization.id,
    )


async def find_or_create_organization(
    session: AsyncSession, *, name: str, kind: str
) -> models.Organization:
    name = " ".join(name.split())
    if not name:
        raise ClientError("INVALID", "the organization name is empty", field="organization_name")
    if len(name) > MAX_ORGANIZATION_NAME:
        raise ClientError(
            "INVALID",
            f"the organization name is longer than {MAX_ORGANIZATION_NAME} characters",
            field="organization_name",
        )
    if kind not in models.ORGANIZATION_KINDS:
        raise ClientError(
            "INVALID",
            f"unknown organization kind {kind!r}; use {', '.join(models.ORGANIZATION_KINDS)}",
            field="organization_kind",
        )
    # Two clients for a new organization may be created at once: let the unique name decide.
    await session.execute(
        insert(models.Organization)
        .values(name=name, kind=kind)
        .on_conflict_do_nothing(index_elements=[models.Organization.name])
    )
    organization = (
        await session.execute(select(models.Organization).where(models.Organization.name == name))
    ).scalar_one()
    if organization.kind != kind:
        raise ClientError(
            "CONFLICT",
            f"organization {organization.name!r} already exists as {organization.kind}",
            field="organization_kind",
        )
    return organization


async def assign_centers(
    session: AsyncSession, *, organization_pk: int, site_codes: Sequence[str]
) -> None:
    wanted = {code.strip().upper() for code in site_codes if code.strip()}
    centers = (
        (
            await session.execute(
                select(models.Center)
                .where(models.Center.site_code.in_(sorted(wanted)))
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    unknown = sorted(wanted - {center.site_code.upper() for center in centers})
    if unknown:
        raise ClientError(
            "NOT_FOUND", f"no center with site code {', '.join(unknown)}", field="site_codes"
        )
    taken = sorted(
        center.site_code
        for center in centers
        if center.organization_id not in (None, organization_pk)
    )
    if taken:
        raise ClientError(
            "CONFLICT",
            f"center {', '.join(taken)} is operated by another organization",
            field="site_codes",
        )
    for center in centers:
        center.organization_id = organization_pk
    await session.flush()


async def find_credentials(session: AsyncSession, client_id: str) -> ClientCredentials | None:
    row = (
        await session.execute(
            select(models.OAuthClient, models.Organization.kind)
            .join(models.Organization, models.Organization.id == models.OAuthClient.organization_id)
            .where(models.OAuthClient.client_id == client_id)
        )
    ).one_or_none()
    if row is None:
        return None
    client, kind = row
    return ClientCredentials(
        client_id=client.client_id,
        client_pk=client.id,
        organization_pk=client.organization_id,
        organization_kind=kind,
        scopes=tuple(client.scopes),
        secret_hash=client.secret_hash,
        is_disabled=client.disabled_at is not None,
    )


async def list_clients(
    session: AsyncSession, *, organization_pk: int | None = None
) -> list[ClientSummary]:
    query = _summaries().order_by(models.OAuthClient.id)
    if organization_pk is not None:
        query = query.where(models.OAuthClient.organization_id == organization_pk)
    rows = (await session.execute(query)).all()
    return [_summary(client, organization) for client, organization in rows]


async def find_client(session: AsyncSession, client_id: str) -> ClientSummary | None:
    row = (
        await session.execute(_summaries().where(models.OAuthClient.client_id == client_id))
    ).one_or_none()
    return None if row is None else _summary(*row)


async def rotate_secret(session: AsyncSession, client_id: str) -> IssuedSecret:
    """Replace the secret. Tokens already issued stay valid until they expire (minutes)."""
    secret = generate_secret()
    changed = (
        await session.execute(
            update(models.OAuthClient)
            .where(
                models.OAuthClient.client_id == client_id,
                models.OAuthClient.disabled_at.is_(None),
            )
            .values(secret_hash=hash_secret(secret), secret_rotated_at=_now())
            .returning(models.OAuthClient.id)
        )
    ).scalar_one_or_none()
    if changed is None:
        await _raise_missing_or_disabled(session, client_id)
    return IssuedSecret(client_id=client_id, client_secret=secret)


async def disable_client(session: AsyncSession, client_id: str) -> ClientSummary:
    """Disable for good: no new tokens, and the outstanding ones stop working everywhere.

    Disabling a disabled client changes nothing (a retried command is harmless).
    """
    await session.execute(
        update(models.OAuthClient)
        .where(
            models.OAuthClient.client_id == client_id,
            models.OAuthClient.disabled_at.is_(None),
        )
        .values(disabled_at=_now())
    )
    summary = await find_client(session, client_id)
    if summary is None:
        raise ClientError("NOT_FOUND", f"no client {client_id!r}", field="client_id")
    return summary


def _checked_scopes(scopes: Iterable[str], *, organization_kind: str) -> tuple[str, ...]:
    try:
        granted = parse_scopes(scopes)
    except UnknownScopeError as error:
        raise ClientError("INVALID", str(error), field="scopes") from None
    if not granted:
        raise ClientError("INVALID", "a client needs at least one scope", field="scopes")
    for scope in granted:
        holders = SCOPE_HOLDERS.get(scope)
        if holders is not None and organization_kind not in holders:
            raise ClientError(
                "INVALID",
                f"only {' and '.join(holders)} organizations may hold {scope.value}",
                field="scopes",
            )
    return tuple(scope.value for scope in granted)


async def _raise_missing_or_disabled(session: AsyncSession, client_id: str) -> None:
    summary = await find_client(session, client_id)
    if summary is None:
        raise ClientError("NOT_FOUND", f"no client {client_id!r}", field="client_id")
    raise ClientError("INVALID", f"client {client_id!r} is disabled", field="client_id")


def _summaries() -> Select[models.OAuthClient, models.Organization]:
    return select(models.OAuthClient, models.Organization).join(
        models.Organization, models.Organization.id == models.OAuthClient.organization_id
    )


def _summary(client: models.OAuthClient, organization: models.Organization) -> ClientSummary:
    return ClientSummary(
        client_id=client.client_id,
        client_pk=client.id,
        organization_pk=organization.id,
        organization_name=organization.name,
        organization_kind=organization.kind,
        scopes=tuple(client.scopes),
        created_at=client.created_at,
        secret_rotated_at=client.secret_rotated_at,
        disabled_at=client.disabled_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)
