"""The per-request context every resolver receives, and the app-wide resources behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from api.audit import RequestAudit
from api.errors import missing_token
from api.resolvers.loaders import Loaders
from api.settings import Settings
from auth.credential_keys import CredentialKeys
from auth.data_integrity_keys import DataIntegrityKeys
from auth.principal import Principal
from auth.service import AuthService
from auth.verifiable import ProvenLists
from db.catalog.versions import CatalogSnapshot, CatalogStore
from db.platform.driver import RequestConnection


@dataclass(slots=True)
class Resources:
    """Built once by the application's lifespan; shared by every request of the process.

    Data and handles only: a service that imports routes (which read these resources) would
    make an import circle."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    catalog: CatalogStore
    auth: AuthService
    credential_keys: CredentialKeys
    data_integrity_keys: DataIntegrityKeys
    proven_lists: ProvenLists = field(default_factory=ProvenLists)


class CatalogUnavailable(RuntimeError):
    """No catalog version is in force today: the database was never bootstrapped."""


@dataclass(slots=True)
class Context:
    request: Request
    response: Response
    resources: Resources
    request_id: str
    principal: Principal | None
    # The request's connection for driver-level statements: the view returns it at the end.
    database: RequestConnection
    audit: RequestAudit = field(default_factory=RequestAudit)
    _loaders: Loaders | None = None

    @property
    def loaders(self) -> Loaders:
        """Built on first use: most requests (a verification, a mutation) never batch."""
        if self._loaders is None:
            self._loaders = Loaders.for_request(
                self.resources.sessionmaker,
                day=today(),
                principal=self.principal,
                audit=self.audit,
            )
        return self._loaders

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.resources.sessionmaker

    def require_principal(self) -> Principal:
        """The caller; for fields behind a permission class, which has already checked it."""
        if self.principal is None:
            raise missing_token(self.request.state)
        return self.principal

    async def catalog_today(self) -> CatalogSnapshot:
        snapshot = await self.resources.catalog.on(today())
        if snapshot is None:
            raise CatalogUnavailable("no catalog version is in force today")
        return snapshot


def today() -> date:
    """The registry keeps its calendar in UTC."""
    return datetime.now(UTC).date()


Info = strawberry.Info[Context, None]
