"""``mssc persisted-queries …``: build a manifest of persisted documents, list the served one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from api.graphql.persisted_queries import (
    DOCUMENT_ID_PREFIX,
    SHIPPED_OPERATIONS,
    ManifestError,
    check_documents,
    load_manifest,
)
from api.schema.root import build_schema
from api.settings import Settings
from cli.failures import fail


def _checked(source: Path, settings: Settings) -> dict[str, str]:
    try:
        documents = load_manifest(source)
        check_documents(build_schema(settings)._schema, documents)
    except ManifestError as error:
        fail(str(error))
    return documents


def build(args: argparse.Namespace, settings: Settings) -> None:
    source = Path(args.source)
    if not source.is_dir():
        fail(f"{source} is not a directory of .graphql files")
    documents = _checked(source, settings)
    if not documents:
        fail(f"{source} holds no .graphql file")
    manifest = orjson.dumps(documents, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    Path(args.output).write_bytes(manifest + b"\n")
    print(f"{len(documents)} documents written to {args.output}")


def list_documents(args: argparse.Namespace, settings: Settings) -> None:
    """The documents this server would accept by hash: each documentId and operation."""
    documents = _checked(settings.persisted_queries or SHIPPED_OPERATIONS, settings)
    for sha256, document in sorted(documents.items(), key=lambda item: item[1]):
        first_line = document.strip().splitlines()[0].rstrip(" {")
        print(f"{DOCUMENT_ID_PREFIX}{sha256}  {first_line}")


def add_commands(commands: Any) -> None:
    persisted = commands.add_parser(
        "persisted-queries", help="persisted documents: build a manifest, list the served one"
    )
    sub = persisted.add_subparsers(dest="persisted_command", required=True)
    build_cmd = sub.add_parser(
        "build",
        help="check each .graphql file against the schema; write {sha256: document} as JSON",
    )
    build_cmd.add_argument("source", help="a directory of .graphql files, one operation each")
    build_cmd.add_argument("-o", "--output", required=True, help="the manifest to write")
    build_cmd.set_defaults(handler=build)
    list_cmd = sub.add_parser(
        "list",
        help="each documentId of the manifest in MSSC_PERSISTED_QUERIES (or the shipped one)",
    )
    list_cmd.set_defaults(handler=list_documents)
