"""The public center locator, and centers by global ID."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info, today
from api.resolvers.arguments import given
from api.resolvers.network.locator_arguments import (
    center_search,
    decode_cursor,
    encode_cursor,
    locator_page_size,
)
from api.schema.network.centers import Center, CenterConnection, CenterEdge, GeoPointInput
from api.schema.pagination import PageInfo
from db.network.centers import get_centers
from db.network.locator import count_centers, find_centers


async def centers(
    info: Info,
    near: Annotated[
        GeoPointInput | None, strawberry.argument(description="Search around this point...")
    ] = strawberry.UNSET,
    postal_code: Annotated[
        str | None, strawberry.argument(description="...or around this US ZIP code.")
    ] = strawberry.UNSET,
    within_km: Annotated[
        float | None, strawberry.argument(description="Search radius, over 0 and up to 5,000 km.")
    ] = 80.0,
    program_code: Annotated[
        str | None, strawberry.argument(description="Only centers authorized for this program.")
    ] = strawberry.UNSET,
    module_code: Annotated[
        str | None,
        strawberry.argument(description="Only centers authorized for this module's program."),
    ] = strawberry.UNSET,
    first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100.")] = 20,
    after: Annotated[
        str | None, strawberry.argument(description="The endCursor of the previous page.")
    ] = strawberry.UNSET,
    state: Annotated[
        str | None, strawberry.argument(description="Only centers in this US state (USPS code).")
    ] = strawberry.UNSET,
    name_contains: Annotated[
        str | None,
        strawberry.argument(description="Only centers whose name contains this text."),
    ] = strawberry.UNSET,
) -> CenterConnection:
    catalog = await info.context.catalog_today()
    search = center_search(
        catalog=catalog,
        day=today(),
        near=given(near),
        postal_code=given(postal_code),
        within_km=within_km,
        program_code=given(program_code),
        module_code=given(module_code),
        state=given(state),
        name_contains=given(name_contains),
    )
    limit = locator_page_size(first)
    cursor = given(after)
    keyset = None if cursor is None else decode_cursor(search, cursor)
    sessionmaker = info.context.sessionmaker
    async with sessionmaker() as session:
        hits = await find_centers(session, search, after=keyset, limit=limit + 1)
    page, has_next_page = hits[:limit], len(hits) > limit
    edges = [
        CenterEdge(
            cursor=encode_cursor(search, hit.keyset),
            node=Center.from_record(hit.center, catalog),
            distance_km=round(hit.distance_km, 3),
        )
        for hit in page
    ]

    async def count() -> int:
        if keyset is None and not has_next_page:
            return len(page)  # the first page holds every match
        async with sessionmaker() as session:
            return await count_centers(session, search)

    return CenterConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        count=count,
    )


async def center_node(info: Info, pk: int) -> Center | None:
    async with info.context.sessionmaker() as session:
        found = await get_centers(session, [pk], day=today())
    record = found.get(pk)
    if record is None:
        return None
    return Center.from_record(record, await info.context.catalog_today())
