"""Reading a CSV the registry emits, as a spreadsheet would."""

from __future__ import annotations

import httpx

BYTE_ORDER_MARK = "\ufeff"


def downloaded_csv(response: httpx.Response) -> str:
    """The CSV's text after its byte-order mark, which every CSV the registry emits starts with
    (Excel reads the file as UTF-8 only then)."""
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith(BYTE_ORDER_MARK), text[:40]
    return text.removeprefix(BYTE_ORDER_MARK)
