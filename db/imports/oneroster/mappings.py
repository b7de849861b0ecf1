"""The mappings a school keeps so that its OneRoster gradebook reads in the registry.

- ``LINE_ITEM``: a line item, by its ``sourcedId`` or by a ``titlePattern`` its title matches
  (``*`` any characters, ``?`` one, case ignored), to a module code;
- ``COURSE``: the course of a line item's class, by its ``sourcedId`` or its ``courseCode``,
  to a module code;
- ``ORG``: the org that tested (the line item's school, or its class's), by its ``sourcedId``
  or its ``identifier``, to the site code of one of the school's centers.

Where the school keeps no mapping, a course code the catalog aligns to exactly one module
(5929, Principles of Machining I, to SAFETY) is used, in the catalog version in force on the
day of each result (alignments change between versions like every other rule), and an org's
``identifier`` is taken as a site code; anything else is reported unmapped, never guessed.
Each organization reads and writes only its own mappings, in the SQL.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.catalog.versions import CatalogSnapshot
from db.errors import RuleViolation

MAX_MAPPINGS = 2_000
MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class Mappings:
    """An organization's mappings, read once for a bundle."""

    line_items: dict[str, str] = field(default_factory=dict)  # sourcedId -> module code
    title_patterns: tuple[tuple[str, re.Pattern[str], str], ...] = ()  # (pattern, regex, module)
    courses: dict[str, str] = field(default_factory=dict)  # sourcedId or courseCode -> module
    orgs: dict[str, str] = field(default_factory=dict)  # sourcedId or identifier -> site code
    # Each catalog version's course alignments (course code -> module codes), the earliest in
    # force first, beside the day it takes effect.
    alignments: tuple[tuple[date, Mapping[str, tuple[str, ...]]], ...] = ()

    def aligned_on(self, day: date) -> Mapping[str, tuple[str, ...]]:
        """The course alignments of the catalog version in force on ``day`` (none before the
        first one)."""
        index = bisect.bisect_right([since for since, _ in self.alignments], day) - 1
        return self.alignments[index][1] if index >= 0 else {}


def title_regex(pattern: str) -> re.Pattern[str]:
    # fnmatch's translation, but ``[`` is literal: a title may hold brackets.
    return re.compile(fnmatch.translate(pattern.replace("[", "[[]")), re.IGNORECASE)


async def read_mappings(
    session: AsyncSession, *, organization_id: int, catalogs: Sequence[CatalogSnapshot] = ()
) -> Mappings:
    """The organization's mappings, and the course alignments of ``catalogs`` (every published
    version, for results of any day; none when only explicit mappings may resolve)."""
    rows = await session.scalars(
        select(models.OneRosterMapping)
        .where(models.OneRosterMapping.organization_id == organization_id)
        .order_by(models.OneRosterMapping.id)
    )
    line_items: dict[str, str] = {}
    patterns: list[tuple[str, re.Pattern[str], str]] = []
    courses: dict[str, str] = {}
    orgs: dict[str, str] = {}
    for row in rows:
        if row.kind == "ORG" and row.sourced_id and row.center_site_code:
            orgs[row.sourced_id] = row.center_site_code
        elif row.kind == "COURSE" and row.sourced_id and row.module_code:
            courses[row.sourced_id] = row.module_code
        elif row.kind == "LINE_ITEM" and row.module_code:
            if row.sourced_id:
                line_items[row.sourced_id] = row.module_code
            elif row.title_pattern:
                patterns.append(
                    (row.title_pattern, title_regex(row.title_pattern), row.module_code)
                )
    return Mappings(
        line_items=line_items,
        title_patterns=tuple(patterns),
        courses=courses,
        orgs=orgs,
        alignments=tuple(
            (catalog.effective_from, dict(catalog.courses))
            for catalog in sorted(catalogs, key=lambda c: c.effective_from)
        ),
    )


async def list_mappings(
    session: AsyncSession, *, organization_id: int
) -> Sequence[models.OneRosterMapping]:
    found = await session.scalars(
        select(models.OneRosterMapping)
        .where(models.OneRosterMapping.organization_id == organization_id)
        .order_by(models.OneRosterMapping.kind, models.OneRosterMapping.id)
    )
    return list(found)


@dataclass(frozen=True, slots=True)
class MappingRequest:
    kind: str  # LINE_ITEM | COURSE | ORG
    sourced_id: str | None
    title_pattern: str | None
    module_code: str | None
    center_site_code: str | None


def _key(request: MappingRequest) -> tuple[str | None, str | None]:
    sourced_id = (request.sourced_id or "").strip() or None
    pattern = (request.title_pattern or "").strip() or None
    if (sourced_id is None) == (pattern is None):
        wanted = "sourcedId or titlePattern" if request.kind == "LINE_ITEM" else "sourcedId"
        raise RuleViolation("INVALID", f"give exactly one of {wanted}", field=("sourced_id",))
    if pattern is not None and request.kind != "LINE_ITEM":
        raise RuleViolation(
            "INVALID", "only a LINE_ITEM mapping matches titles", field=("title_pattern",)
        )
    for name, value in (("sourced_id", sourced_id), ("title_pattern", pattern)):
        if value is not None and len(value) > MAX_KEY:
            raise RuleViolation("INVALID", f"at most {MAX_KEY} characters", field=(name,))
    return sourced_id, pattern


async def _operated_center(session: AsyncSession, organization_id: int, site_code: str) -> str:
    found = await session.scalar(
        select(models.Center.site_code).where(
            models.Center.site_code == site_code,
            models.Center.organization_id == organization_id,
        )
    )
    if found is None:
        # Another organization's center reads like none: no oracle of who runs which center.
        raise RuleViolation(
            "NOT_FOUND",
            f"no center of yours has site code {site_code!r}",
            field=("center_site_code",),
        )
    return found


async def set_mapping(
    session: AsyncSession,
    *,
    organization_id: int,
    request: MappingRequest,
    catalog: CatalogSnapshot | None,
) -> models.OneRosterMapping:
    """Create the mapping, or change the one the organization keeps for the same key."""
    sourced_id, pattern = _key(request)
    module_code = site_code = None
    if request.kind == "ORG":
        if request.module_code:
            raise RuleViolation(
                "INVALID", "an ORG mapping names a center, not a module", field=("module_code",)
            )
        if not request.center_site_code:
            raise RuleViolation(
                "INVALID", "an ORG mapping needs centerSiteCode", field=("center_site_code",)
            )
        site_code = await _operated_center(
            session, organization_id, request.center_site_code.strip()
        )
    else:
        if request.center_site_code:
            raise RuleViolation(
                "INVALID",
                f"a {request.kind} mapping names a module, not a center",
                field=("center_site_code",),
            )
        module_code = (request.module_code or "").strip().upper()
        if catalog is None or catalog.module_by_code(module_code) is None:
            raise RuleViolation(
                "UNKNOWN_MODULE",
                f"no module {module_code!r} in the catalog in force",
                field=("module_code",),
            )
    count = await session.scalar(
        select(func.count())
        .select_from(models.OneRosterMapping)
        .where(models.OneRosterMapping.organization_id == organization_id)
    )
    if (count or 0) >= MAX_MAPPINGS:
        raise RuleViolation("INVALID", f"an organization keeps at most {MAX_MAPPINGS} mappings")
    values = {
        "organization_id": organization_id,
        "kind": request.kind,
        "sourced_id": sourced_id,
        "title_pattern": pattern,
        "module_code": module_code,
        "center_site_code": site_code,
    }
    table = models.OneRosterMapping.__table__
    if sourced_id is not None:
        conflict = {
            "index_elements": ["organization_id", "kind", "sourced_id"],
            "index_where": table.c.sourced_id.isnot(None),
        }
    else:
        conflict = {
            "index_elements": ["organization_id", "title_pattern"],
            "index_where": table.c.title_pattern.isnot(None),
        }
    statement = (
        insert(models.OneRosterMapping)
        .values(**values)
        .on_conflict_do_update(
            **conflict,  # type: ignore[arg-type]
            set_={
                "module_code": module_code,
                "center_site_code": site_code,
                "updated_at": func.now(),
            },
        )
        .returning(models.OneRosterMapping.id)
    )
    mapping_id = await session.scalar(statement)
    mapping = await session.get(models.OneRosterMapping, mapping_id, populate_existing=True)
    assert mapping is not None
    return mapping
