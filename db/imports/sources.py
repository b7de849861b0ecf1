"""Each kind of import and the reader of its stored parts.

A new source (a OneRoster bundle) cuts its uploads into parts of its own format with
``jobs.create_import`` and adds its reader here under its kind: the worker, the counters, the
rejected rows and the completion event are the same for every kind.
"""

from __future__ import annotations

from db.imports import spreadsheet
from db.imports.oneroster import source as oneroster
from db.imports.rows import PartReader

READERS: dict[str, PartReader] = {
    "RESULTS": spreadsheet.read_part,
    "ONEROSTER": oneroster.read_part,
}


def reader_for(kind: str) -> PartReader:
    return READERS[kind]
