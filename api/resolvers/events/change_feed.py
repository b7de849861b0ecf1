"""The change feed: ``changes(after:, first:, types:)``."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import BadUserInput, Forbidden
from api.permissions import can_read_candidates
from api.resolvers.arguments import given, page_size
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.events.change_feed import Change, ChangeConnection, ChangeEdge
from api.schema.pagination import PageInfo
from auth.principal import Principal
from auth.scopes import Scope
from db.events.change_feed import EVENT_TYPES, Audience, last_sequence, read_changes, render_event

CURSOR_TAG = "change"
# Changes looked at per request, visible or not (see ``changes``).
SCAN_WINDOW = 10_000


def audience_of(principal: Principal) -> Audience | None:
    """What the caller's token lets it follow; None when nothing."""
    audience = Audience(
        organization_id=principal.organization_id,
        organization_kind=principal.organization_kind,
        reads_records=can_read_candidates(principal),
        reads_verified=principal.organization_kind == "EMPLOYER"
        and principal.has_scope(Scope.CREDENTIALS_VERIFY),
    )
    return audience if audience.reads_records or audience.reads_verified else None


def require_audience(info: Info) -> Audience:
    audience = audience_of(info.context.require_principal())
    if audience is None:
        raise Forbidden(
            "The change feed needs candidates:read (an employer: diagnostics:read or "
            "credentials:verify)",
            scope=Scope.CANDIDATES_READ.value,
        )
    return audience


def change_cursor(sequence: int) -> str:
    return encode_cursor(CURSOR_TAG, sequence)


def parse_change_cursor(cursor: str) -> int | None:
    values = decode_cursor(cursor, 2)
    if values is None or values[0] != CURSOR_TAG or not isinstance(values[1], int):
        return None
    return values[1] if values[1] >= 0 else None


def check_event_types(types: list[str], argument: str) -> list[str]:
    """The distinct known types, sorted: a list of any length becomes at most one entry per
    type the registry has, so neither the statement that filters by them nor what is stored
    grows with what the client wrote."""
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        shown = ", ".join(t[:40] for t in unknown[:5])
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        raise BadUserInput(
            f"Unknown {argument} {shown}{more}; known types: {', '.join(EVENT_TYPES)}.",
            argument=argument,
        )
    return sorted(set(types))


async def changes(
    info: Info,
    after: str | None = strawberry.UNSET,
    first: int = 50,
    types: list[str] | None = strawberry.UNSET,
) -> ChangeConnection:
    audience = require_audience(info)
    first = page_size(first)
    after_cursor = given(after)
    position = 0
    if after_cursor is not None:
        parsed = parse_change_cursor(after_cursor)
        if parsed is None:
            raise BadUserInput("after is not a cursor returned by changes; omit it to start over.")
        position = parsed
    wanted = given(types)
    if wanted is not None:
        wanted = check_event_types(wanted, "types")
    async with info.context.sessionmaker() as session:
        high_water = await last_sequence(session)
        # Each request looks at a bounded stretch of the feed, so a caller who sees few of
        # its changes pays for a window, not for everything since its cursor.
        upper = min(high_water, position + SCAN_WINDOW)
        rows = await read_changes(
            session,
            audience,
            after=position,
            up_to=upper,
            first=first + 1,
            types=wanted or None,
        )
    page = rows[:first]
    # Events name the people they concern: a page that reads records discloses them.
    info.context.audit.disclose(
        row.event.candidate_id
        for row in page
        if row.reads_record and row.event.candidate_id is not None
    )
    edges = [
        ChangeEdge(
            cursor=change_cursor(row.event.sequence),
            node=Change.from_body(render_event(row, audience)),
        )
        for row in page
    ]
    if len(rows) > first:
        end, more = page[-1].event.sequence, True
    else:
        # Every change up to ``upper`` is committed and was looked at: resume after it.
        end, more = max(upper, position), upper < high_water
    return ChangeConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=change_cursor(end)),
    )
