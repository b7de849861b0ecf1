"""A JSON-LD document loader over the local copies of the published contexts, nothing else.

Signing reads a credential's RDF through its contexts; fetching them would let whoever
answers a URL change what the registry signs, and make signing depend on the network. Any
URL not listed here is refused, so a credential naming an unknown context fails to sign
instead of being signed over less than it says.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pyld.jsonld import JsonLdError

from db.events.open_badges import CLR_CONTEXT, OB_CONTEXT, VC_CONTEXT

_FILES = {
    VC_CONTEXT: "credentials-v2.jsonld",
    OB_CONTEXT: "ob-v3p0-context-3.0.3.json",
    CLR_CONTEXT: "clr-v2p0-context-2.0.1.json",
}


def known_contexts() -> frozenset[str]:
    return frozenset(_FILES)


@cache
def context_document(url: str) -> dict[str, Any]:
    """The local copy of a published context; KeyError for any other URL."""
    text = resources.files(__package__).joinpath("contexts", _FILES[url]).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's ``documentLoader``: a known context, or a refusal."""
    if url not in _FILES:
        raise JsonLdError(
            f"no local copy of {url!r}: only the registry's known contexts are loaded",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": context_document(url),
    }
