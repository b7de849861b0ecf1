"""The CSV the registry writes, safe to open in a spreadsheet, and read back as it was.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection), so every CSV the registry emits writes such a cell with a
``'`` in front (:func:`neutralized`). The spreadsheet reader takes exactly that ``'`` off again
(:func:`restored`), so a rejected-rows file fixed and uploaded again keeps a negative number or
a name starting with ``-`` as it was. A cell that already starts with ``'`` before one of those
characters gets one more, so the two are inverses for every text.

Emitted CSVs start with a UTF-8 byte-order mark: Excel reads the file as UTF-8 only then (a
``Zoë`` is not shown as ``ZoÃ«``); every reader of the registry accepts it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _runs_as_formula(text: str) -> bool:
    # A "'" before a formula start must be escaped too, or reading it back would drop it.
    stripped = text.lstrip("'")
    return stripped.startswith(FORMULA_STARTS)


def neutralized(text: str) -> str:
    """The text as a cell a spreadsheet shows rather than runs."""
    return "'" + text if _runs_as_formula(text) else text


def restored(text: str) -> str:
    """The text a :func:`neutralized` cell was made from (any other cell as it is)."""
    if text.startswith("'") and _runs_as_formula(text[1:]):
        return text[1:]
    return text


def _cell(value: object) -> object:
    return neutralized(value) if isinstance(value, str) else value


def csv_rows(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV text, every text cell neutralized (no byte-order mark: see
    :func:`csv_document`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_document(rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV file: the byte-order mark, then the rows."""
    return BYTE_ORDER_MARK + csv_rows(rows)
