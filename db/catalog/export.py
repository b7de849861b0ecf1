"""A published version written back as a catalog document (the JSON equivalent of its file).

Staff start a new version from the one in force: export it, change the label, the effective
date and the numbers, publish it. Publishing the export unchanged under a new label and date
changes nothing but the date, which ``catalogDiff`` shows; publishing it unchanged is the same
version (``created: false``). It is written in the canonical form, sets sorted by code.
"""

from __future__ import annotations

from typing import Any

from db.catalog.versions import CatalogSnapshot, snapshot_document


def catalog_document(catalog: CatalogSnapshot) -> dict[str, Any]:
    return snapshot_document(catalog).canonical()
