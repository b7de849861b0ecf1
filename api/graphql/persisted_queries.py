"""Persisted queries: a client sends the SHA-256 of a registered document instead of its text.

Two request forms name a document by hash:

- GraphQL over HTTP's persisted documents: ``"documentId": "sha256:<hex>"``;
- Apollo's: ``"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``.

The registered documents come from a manifest (``MSSC_PERSISTED_QUERIES``: a JSON object of
``{hash: document}``, every hash checked at load, or a directory of ``.graphql`` files),
by default the registry's own operations in ``api/graphql/operations/``.

In allow-list mode (``MSSC_PERSISTED_QUERIES_ONLY``) nothing else runs: a document, sent by
hash or in full, must be in the manifest (``PERSISTED_QUERY_REQUIRED`` otherwise). Outside
it, any document runs, and a client may register one Apollo-style (the full text with its
hash, checked) in a bounded per-process cache that forgets the least recently used first.
An unknown hash answers ``PERSISTED_QUERY_NOT_FOUND``, which Apollo's clients take as the
cue to send the text.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSchema, parse, validate

from api.limits.rules import MAX_CACHED_CHARS
from api.settings import Settings

SHIPPED_OPERATIONS = Path(__file__).parent / "operations"
DOCUMENT_ID_PREFIX = "sha256:"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest cannot be loaded; the message names the file and the entry."""


class PersistedQueryError(Exception):
    """The request names a document this server will not run. ``code`` goes to the client;
    ``malformed`` requests are HTTP errors (400), the others GraphQL request errors."""

    def __init__(self, code: str, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.malformed = malformed


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """``{hash: document}`` from a directory of ``.graphql`` files or a JSON manifest."""
    if path.is_dir():
        documents = {}
        for file in sorted(path.glob("*.graphql")):
            text = file.read_text(encoding="utf-8")
            documents[document_hash(text)] = text
        return documents
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ManifestError(f"{path}: cannot read the manifest ({error.strerror})") from None
    except orjson.JSONDecodeError:
        raise ManifestError(f"{path}: not JSON; write an object of {{sha256: document}}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: write an object of {{sha256: document}}")
    for key, document in raw.items():
        if not isinstance(document, str):
            raise ManifestError(f"{path}: the document of {key!r} is not a string")
        if key.removeprefix(DOCUMENT_ID_PREFIX) != document_hash(document):
            raise ManifestError(f"{path}: {key!r} is not the SHA-256 of its document")
    return {key.removeprefix(DOCUMENT_ID_PREFIX): document for key, document in raw.items()}


def check_documents(schema: GraphQLSchema, documents: Mapping[str, str]) -> None:
    """Every document parses and validates against ``schema``; else ManifestError."""
    for key, document in documents.items():
        try:
            errors = validate(schema, parse(document))
        except GraphQLError as error:
            errors = [error]
        if errors:
            raise ManifestError(f"persisted document {key}: {errors[0].message}")


@dataclass(frozen=True, slots=True)
class Requested:
    """How a request named its document: by text, by hash, or both (Apollo's registration)."""

    query: str | None
    sha256: str | None

    @classmethod
    def of(
        cls, query: str | None, document_id: str | None, extensions: Mapping[str, Any] | None
    ) -> Requested:
        apollo = (extensions or {}).get("persistedQuery")
        if document_id is not None:
            if query is not None or apollo is not None:
                raise _malformed("Send either documentId or a query, not both")
            return cls(None, _hash_of_document_id(document_id))
        if apollo is None:
            return cls(query, None)
        version = apollo.get("version") if isinstance(apollo, dict) else None
        # True and 1.0 equal 1 in Python; neither is the version 1.
        if type(version) is not int or version != 1:
            raise _malformed("extensions.persistedQuery must be {version: 1, sha256Hash}")
        sha256 = apollo.get("sha256Hash")
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            raise _malformed("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits")
        return cls(query, sha256)


def _hash_of_document_id(document_id: str) -> str:
    sha256 = document_id.removeprefix(DOCUMENT_ID_PREFIX)
    if sha256 == document_id or not _SHA256_HEX.fullmatch(sha256):
        raise _malformed("documentId must be sha256: and 64 lowercase hex digits")
    return sha256


def _malformed(message: str) -> PersistedQueryError:
    return PersistedQueryError("BAD_USER_INPUT", message, malformed=True)


class PersistedQueries:
    @classmethod
    def configured(
        cls, settings: Settings, schema: GraphQLSchema, *, registry_schema: bool = True
    ) -> PersistedQueries:
        """The manifest of ``settings``; unset, the shipped one (for the registry's schema
        only: a test's own schema has none). Raises ManifestError."""
        source = settings.persisted_queries
        if source is None and registry_schema:
            source = SHIPPED_OPERATIONS
        documents = load_manifest(source) if source is not None else {}
        check_documents(schema, documents)
        return cls(
            documents,
            allow_list_only=settings.persisted_queries_only,
            cache_size=settings.persisted_query_cache_size,
        )

    def __init__(
        self, documents: Mapping[str, str], *, allow_list_only: bool, cache_size: int
    ) -> None:
        self.documents = dict(documents)
        self.allow_list_only = allow_list_only
        self.cache_size = 0 if allow_list_only else cache_size
        self._registered: OrderedDict[str, str] = OrderedDict()

    def document(self, requested: Requested) -> str:
        """The text to run; or PersistedQueryError. A manifest document is returned as the
        very string loaded, so the parse and validation caches find it without rehashing."""
        if requested.sha256 is None:
            return self._text(requested.query)
        known = self.documents.get(requested.sha256) or self._recall(requested.sha256)
        if requested.query is None:
            if known is None:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_NOT_FOUND",
                    "PersistedQueryNotFound: no document has this hash; send the query with it",
                )
            return known
        if document_hash(requested.query) != requested.sha256:
            raise _malformed("extensions.persistedQuery.sha256Hash is not the query's SHA-256")
        if known is not None:
            return known
        text = self._text(requested.query)
        self._register(requested.sha256, text)
        return text

    def _text(self, query: str | None) -> str:
        if query is None:
            raise _malformed("No GraphQL query found in the request")
        if self.allow_list_only:
            known = self.documents.get(document_hash(query))
            if known is None:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_REQUIRED",
                    "This server runs registered documents only; send a documentId",
                )
            return known
        return query

    def _recall(self, sha256: str) -> str | None:
        text = self._registered.get(sha256)
        if text is not None:
            self._registered.move_to_end(sha256)
        return text

    def _register(self, sha256: str, text: str) -> None:
        # A longer document runs but is not kept: the store stays under size * MAX_CACHED_CHARS.
        if self.cache_size == 0 or len(text) > MAX_CACHED_CHARS:
            return
        self._registered[sha256] = text
        while len(self._registered) > self.cache_size:
            self._registered.popitem(last=False)
