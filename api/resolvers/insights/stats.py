"""``Query.stats``: the period's arguments, checked; the figures are computed per field."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from api.context import Info, today
from api.errors import BadUserInput
from api.resolvers.arguments import given
from api.resolvers.insights.stats_source import StatsSource
from api.schema.insights.stats import RegistryStats
from db.insights.stats import Period


async def stats(
    info: Info,
    from_: Annotated[
        datetime.date | None,
        strawberry.argument(name="from", description="First UTC day of the period (included)."),
    ] = strawberry.UNSET,
    until: Annotated[
        datetime.date | None,
        strawberry.argument(description="Last UTC day of the period (included)."),
    ] = strawberry.UNSET,
) -> RegistryStats:
    start, end = given(from_), given(until)
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"from ({start}) is after until ({end}).", argument="from")
    now = datetime.datetime.now(datetime.UTC)
    as_of = today() if end is None else min(end, today())
    resources = info.context.resources
    source = StatsSource(
        resources.sessionmaker,
        catalog=await info.context.catalog_today(),
        period=Period(start, end),
        as_of=as_of,
        now=now,
        vision=resources.settings.vision,
    )
    return RegistryStats(source=source, from_=start, until=end, as_of=as_of)
