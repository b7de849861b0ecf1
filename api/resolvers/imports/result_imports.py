"""``resultImport(id:)``, ``resultImports(first:, after:)`` and ``node`` for imports.

Reading an import needs ``results:write`` (the scope that uploads) or ``results:read``; an
organization sees its own imports only (staff: every one), in the SQL.
"""

from __future__ import annotations

import strawberry
from sqlalchemy import func, select

from api.context import Info
from api.errors import BadUserInput, Forbidden
from api.resolvers.arguments import given, page_size
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.imports.result_imports import (
    TYPE_NAME,
    ResultImport,
    ResultImportConnection,
    ResultImportEdge,
)
from api.schema.node import parse_global_id
from api.schema.pagination import PageInfo
from auth.principal import Principal
from auth.scopes import Scope
from db import models
from db.imports.jobs import find_import, imports_visible_to


def can_read_imports(principal: Principal) -> bool:
    return principal.has_scope(Scope.RESULTS_WRITE) or principal.has_scope(Scope.RESULTS_READ)


def require_import_reader(info: Info) -> Principal:
    principal = info.context.require_principal()
    if not can_read_imports(principal):
        raise Forbidden(
            f"This field needs the scope {Scope.RESULTS_WRITE.value} (or "
            f"{Scope.RESULTS_READ.value})",
            scope=Scope.RESULTS_WRITE.value,
        )
    return principal


async def result_import_node(info: Info, pk: int) -> ResultImport | None:
    principal = require_import_reader(info)
    async with info.context.sessionmaker() as session:
        found = await find_import(
            session,
            pk,
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
        )
    base_url = info.context.resources.settings.issuer
    return None if found is None else ResultImport.from_model(found, base_url=base_url)


async def result_import(info: Info, id: strawberry.ID) -> ResultImport | None:
    require_import_reader(info)
    pk = parse_global_id(id, TYPE_NAME)
    return None if pk is None else await result_import_node(info, pk)


async def result_imports(
    info: Info, first: int = 20, after: str | None = strawberry.UNSET
) -> ResultImportConnection:
    principal = require_import_reader(info)
    first = page_size(first)
    visible = imports_visible_to(
        organization_id=principal.organization_id,
        organization_kind=principal.organization_kind,
    )
    conditions = [visible]
    cursor = given(after)
    if cursor is not None:
        values = decode_cursor(cursor, 1)
        if values is None or not isinstance(values[0], int):
            raise BadUserInput(
                "after is not a cursor returned by resultImports; omit it to start over.",
                argument="after",
            )
        conditions.append(models.ResultImport.id < values[0])
    async with info.context.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(models.ResultImport)
                .where(*conditions)
                .order_by(models.ResultImport.id.desc())
                .limit(first + 1)
            )
        )
    base_url = info.context.resources.settings.issuer

    async def count() -> int:
        async with info.context.sessionmaker() as session:
            total = await session.scalar(
                select(func.count()).select_from(models.ResultImport).where(visible)
            )
        return int(total or 0)

    edges = [
        ResultImportEdge(
            cursor=encode_cursor(row.id), node=ResultImport.from_model(row, base_url=base_url)
        )
        for row in rows[:first]
    ]
    return ResultImportConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
        count=count,
    )
