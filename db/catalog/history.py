"""Results older than the catalog: what the registry tells whoever posts them.

A result is judged by the version in force on its day, so a result from before the first
version's effective date has no rules to be judged by. That is not a dead end: staff publish
the catalog of that time as a version with an earlier effective date (nothing recorded is
re-judged by it, since no result predates the first version), and the history can then be
imported. The message says so, to the school that meets it and to the staff it will ask.
"""

from __future__ import annotations

from datetime import date

STAFF_GUIDE = "docs/staff/catalog.md"


def no_version_in_force(day: date, earliest: date | None) -> str:
    first = (
        f"the first catalog version takes effect on {earliest}"
        if earliest is not None
        else "no catalog version is published"
    )
    return (
        f"no catalog version was in force on {day} ({first}); to record older results, "
        "registry staff first publish the catalog of that time as a version with an earlier "
        f"effective_from (publishCatalogVersion or mssc catalog load; see {STAFF_GUIDE})"
    )
