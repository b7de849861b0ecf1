"""Catalog versions for staff: what each version holds, who published it, what changed."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Self

import orjson
import strawberry

from api.schema.catalog import CredentialType, Module, Program
from api.schema.user_error import UserError
from db.catalog.diff import CatalogChange as CatalogChangeSpec
from db.catalog.export import catalog_document
from db.catalog.versions import CatalogSnapshot, PublishedVersion


@strawberry.enum(description="How a catalog document is written.")
class CatalogDocumentFormat(Enum):
    TOML = strawberry.enum_value("TOML", description="As the files mssc catalog load reads.")
    JSON = strawberry.enum_value(
        "JSON", description="The TOML document's equivalent: the same keys, dates as YYYY-MM-DD."
    )


@strawberry.type(description="Waits before a retake, in calendar days (catalog policy).")
class RetakePolicy:
    wait_days: int
    long_wait_days: int
    failures_before_long_wait: int


@strawberry.type(description="A state course aligned to modules (a SIS may report its code).")
class CatalogCourse:
    code: str
    name: str | None
    module_codes: list[str]


@strawberry.type(
    description=(
        "One published edition of the catalog. A result is judged by the version in force on "
        "the day it was taken; a published version is never edited."
    )
)
class CatalogVersion:
    label: str
    effective_from: date = strawberry.field(description="The first day the version is in force.")
    in_force: bool = strawberry.field(description="The version in force today.")
    published_at: datetime
    published_by_client_id: str | None = strawberry.field(
        description=(
            "The staff client that published it through GraphQL; null: the command line "
            "(mssc catalog load) or the reference catalog loaded at start-up."
        )
    )
    assessable_module_codes: list[str] = strawberry.field(
        description="Modules with a cut score in this version: results can be judged."
    )
    registration_fee_cents: int = strawberry.field(description="One-time, per candidate.")
    retake_policy: RetakePolicy
    programs: list[Program]
    modules: list[Module]
    credential_types: list[CredentialType]
    courses: list[CatalogCourse]
    catalog: strawberry.Private[CatalogSnapshot]

    @strawberry.field(
        description=(
            "The version as a catalog document (JSON, the format: JSON equivalent of its file): "
            "start a new version from it, change the label, the effective date and the "
            "numbers, and publish it."
        )
    )
    def document(self) -> str:
        # Written only when asked: a list of versions rarely asks for every one's document.
        return orjson.dumps(catalog_document(self.catalog)).decode()

    @classmethod
    def from_version(
        cls, version: PublishedVersion, catalog: CatalogSnapshot, *, in_force: bool
    ) -> Self:
        policy = catalog.retake_policy
        return cls(
            label=version.label,
            effective_from=version.effective_from,
            in_force=in_force,
            published_at=version.published_at,
            published_by_client_id=version.published_by_client_id,
            assessable_module_codes=[
                m.code for m in catalog.modules if m.cut_score_percent is not None
            ],
            registration_fee_cents=catalog.registration_fee_cents,
            retake_policy=RetakePolicy(
                wait_days=policy.wait_days,
                long_wait_days=policy.long_wait_days,
                failures_before_long_wait=policy.failures_before_long_wait,
            ),
            programs=[Program.from_spec(p) for p in catalog.programs],
            modules=[Module.from_spec(m, catalog) for m in catalog.modules],
            credential_types=[
                CredentialType.from_spec(t, catalog) for t in catalog.credential_types
            ],
            courses=[
                CatalogCourse(code=code, name=catalog.course_names.get(code), module_codes=list(m))
                for code, m in catalog.courses.items()
            ],
            catalog=catalog,
        )


@strawberry.type(description="One value that differs between two catalog versions.")
class CatalogChange:
    path: str = strawberry.field(
        description=(
            "The value's place, elements named by code: modules.CLA.cut_score_percent, "
            "credential_types.CLT.prerequisite, registration_fee_cents"
        )
    )
    from_value: str | None = strawberry.field(
        name="from", description="The value in the first version; null: absent or empty."
    )
    to_value: str | None = strawberry.field(
        name="to", description="The value in the second version; null: absent or empty."
    )

    @classmethod
    def from_change(cls, change: CatalogChangeSpec) -> Self:
        return cls(path=change.path, from_value=change.before, to_value=change.after)


@strawberry.type(description="Every value that changed from one catalog version to another.")
class CatalogDiff:
    from_label: str = strawberry.field(name="from")
    to_label: str = strawberry.field(name="to")
    changes: list[CatalogChange]


@strawberry.input(description="A catalog document to publish as a new version.")
class PublishCatalogVersionInput:
    document: str = strawberry.field(
        description="The whole document, as mssc catalog load takes it (docs/staff/catalog.md)."
    )
    format: CatalogDocumentFormat = CatalogDocumentFormat.TOML


@strawberry.type
class PublishCatalogVersionPayload:
    catalog_version: CatalogVersion | None
    created: bool = strawberry.field(
        description="False when the same document was already published (nothing changed)."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "BAD_USER_INPUT with the path into the input (document, then the key path inside "
            "it): the document is malformed or invalid, or the label is published with other "
            "content, or another version takes effect that day, or the effective date would "
            "re-judge recorded results. Nothing is published then."
        )
    )
