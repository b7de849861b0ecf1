"""Public catalog queries: the catalog version in force today."""

from __future__ import annotations

from api.context import Info
from api.schema.catalog import CredentialType, Module, Program


async def programs(info: Info) -> list[Program]:
    catalog = await info.context.catalog_today()
    return [Program.from_spec(p) for p in catalog.programs]


async def modules(info: Info) -> list[Module]:
    catalog = await info.context.catalog_today()
    return [Module.from_spec(m, catalog) for m in catalog.modules]


async def credential_types(info: Info) -> list[CredentialType]:
    catalog = await info.context.catalog_today()
    return [CredentialType.from_spec(t, catalog) for t in catalog.credential_types]


async def module_node(info: Info, pk: int) -> Module | None:
    catalog = await info.context.catalog_today()
    spec = catalog.module_by_id(pk)
    return None if spec is None else Module.from_spec(spec, catalog)
