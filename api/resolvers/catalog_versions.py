"""Staff catalog tools: list, read, compare and publish catalog versions (registry:admin)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info, today
from api.schema.catalog_versions import (
    CatalogChange,
    CatalogDiff,
    CatalogDocumentFormat,
    CatalogVersion,
    PublishCatalogVersionInput,
    PublishCatalogVersionPayload,
)
from api.schema.user_error import UserError
from db.catalog.diff import catalog_changes
from db.catalog.document import CatalogFileError, DocumentFormat, parse_catalog_document
from db.catalog.versions import PublishedVersion, load_catalog, published_versions


async def _versions(info: Info) -> list[PublishedVersion]:
    async with info.context.sessionmaker() as session:
        return await published_versions(session)


async def _in_force_id(info: Info) -> int | None:
    return await info.context.resources.catalog.version_id_on(today())


async def _present(
    info: Info, version: PublishedVersion, in_force_id: int | None
) -> CatalogVersion:
    snapshot = await info.context.resources.catalog.snapshot(version.id)
    return CatalogVersion.from_version(version, snapshot, in_force=version.id == in_force_id)


async def catalog_versions(info: Info) -> list[CatalogVersion]:
    in_force_id = await _in_force_id(info)
    return [await _present(info, v, in_force_id) for v in await _versions(info)]


async def catalog_version(info: Info, label: str) -> CatalogVersion | None:
    version = next((v for v in await _versions(info) if v.label == label), None)
    return None if version is None else await _present(info, version, await _in_force_id(info))


async def catalog_diff(
    info: Info,
    from_label: Annotated[str, strawberry.argument(name="from", description="A version's label.")],
    to_label: Annotated[str, strawberry.argument(name="to", description="A version's label.")],
) -> CatalogDiff | None:
    versions = {v.label: v for v in await _versions(info)}
    if from_label not in versions or to_label not in versions:
        return None
    store = info.context.resources.catalog
    before = await store.snapshot(versions[from_label].id)
    after = await store.snapshot(versions[to_label].id)
    return CatalogDiff(
        from_label=from_label,
        to_label=to_label,
        changes=[CatalogChange.from_change(c) for c in catalog_changes(before, after)],
    )


async def publish_catalog_version(
    info: Info, input: PublishCatalogVersionInput
) -> PublishCatalogVersionPayload:
    principal = info.context.require_principal()
    try:
        # The same parse and the same loader as ``mssc catalog load``: the same rules, the
        # same messages.
        format: DocumentFormat = "JSON" if input.format is CatalogDocumentFormat.JSON else "TOML"
        document = parse_catalog_document(input.document, format=format)
        async with info.context.sessionmaker.begin() as session:
            created = await load_catalog(
                session, document, published_by_client_id=principal.client_id
            )
    except CatalogFileError as error:
        return PublishCatalogVersionPayload(
            catalog_version=None,
            created=False,
            user_errors=[
                UserError(
                    code="BAD_USER_INPUT", field=["document", *error.field], message=error.problem
                )
            ],
        )
    # This process sees the new version at once; the others within their refresh interval.
    info.context.resources.catalog.invalidate()
    return PublishCatalogVersionPayload(
        catalog_version=await catalog_version(info, document.label),
        created=created,
        user_errors=[],
    )
