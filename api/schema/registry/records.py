"""A candidate's record: the candidate, their assessment results and their credentials.

These types reference each other, so they live together. Relations resolve through the
request's loaders (``info.context.loaders``), which apply the caller's entitlement in SQL.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Self

import strawberry

from api.context import Info
from api.errors import BadUserInput, Forbidden
from api.limits.cost import field_cost
from api.permissions import reads_candidates
from api.resolvers.arguments import page_size
from api.resolvers.events import verifiable
from api.schema.catalog import CredentialType, KeyWorkActivity, Module
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.events.verifiable import CredentialFormat, VerifiableCredentialExport
from api.schema.network.centers import Center
from api.schema.node import Node, to_global_id
from api.schema.pagination import PageInfo
from db import models
from db.registry.credentials import effective_status
from db.registry.records import MAX_CREDENTIALS_LISTED, ResultPage, ResultPageKey
from db.registry.result_items import IssuedCredential, RecordedResult
from db.registry.scores import as_float

# Query-cost prices of the signed exports. A VC-JWT signature is cheap; a Data Integrity proof
# canonicalises the credential's RDF, about 40 ms of CPU each, so it is priced 40 times
# higher: a token client's cost budget (leaking 10,000 points a second) then pays for at most
# 10 proofs a second, and one operation at the maximum cost for about 50. A transcript embeds
# every credential with its own Data Integrity proof whatever secures it, so it is priced for
# the most credentials a candidate lists.
EXPORT_COST = 25
DATA_INTEGRITY_EXPORT_COST = 1_000
TRANSCRIPT_EXPORT_COST = 100 + MAX_CREDENTIALS_LISTED * DATA_INTEGRITY_EXPORT_COST
DEFAULT_DISCLOSURES = 50


@strawberry.type(description="A change of a credential's status, with the reason.")
class CredentialStatusChange:
    status: str
    at: datetime.datetime
    reason: str | None

    @classmethod
    def from_model(cls, change: models.CredentialStatusChange) -> Self:
        return cls(status=change.status, at=change.at, reason=change.reason)


@strawberry.type(description="A credential the registry issued.")
class Credential(Node):
    pk: strawberry.Private[int]
    candidate_pk: strawberry.Private[int]
    type_pk: strawberry.Private[int]
    verification_code: str = strawberry.field(
        description="Printed on the certificate; an employer verifies it with the family name."
    )
    status: str = strawberry.field(description="ACTIVE, SUSPENDED, REVOKED or EXPIRED")
    issued_at: datetime.datetime = strawberry.field(
        description="When the credential was earned (the day of its qualifying assessment)."
    )
    expires_at: datetime.datetime | None

    @classmethod
    def from_model(
        cls, credential: models.Credential | IssuedCredential, *, now: datetime.datetime
    ) -> Self:
        return cls(
            id=to_global_id("Credential", credential.id),
            pk=credential.id,
            candidate_pk=credential.candidate_id,
            type_pk=credential.credential_type_id,
            verification_code=credential.verification_code,
            status=effective_status(credential, now),
            issued_at=credential.issued_at,
            expires_at=credential.expires_at,
        )

    @strawberry.field
    async def type(self, info: Info) -> CredentialType:
        catalog = await info.context.catalog_today()
        spec = catalog.credential_type_by_id(self.type_pk)
        assert spec is not None, "credential types are never removed from the catalog"
        return CredentialType.from_spec(spec, catalog)

    @strawberry.field
    async def candidate(self, info: Info) -> Candidate:
        found = await info.context.loaders.candidate.load(self.candidate_pk)
        candidate = Candidate.from_visible(found)
        assert candidate is not None, "a visible credential's holder is visible"
        return candidate

    @strawberry.field(description="Oldest first, starting with the issue (ACTIVE).")
    async def history(self, info: Info) -> list[CredentialStatusChange]:
        changes = await info.context.loaders.credential_history.load(self.pk)
        return [CredentialStatusChange.from_model(c) for c in changes]

    @strawberry.field(
        description=(
            "The credential as an Open Badges 3.0 OpenBadgeCredential, secured as `format` "
            "says (a VC-JWT by default), with revocation and suspension in a W3C Bitstring "
            "Status List."
        ),
        metadata=field_cost(
            base=EXPORT_COST, base_when={"format": {"DATA_INTEGRITY": DATA_INTEGRITY_EXPORT_COST}}
        ),
    )
    async def open_badge_credential(
        self, info: Info, format: CredentialFormat = CredentialFormat.VC_JWT
    ) -> VerifiableCredentialExport:
        return await verifiable.open_badge(info, self.pk, format)


@strawberry.type
class ActivityScore:
    activity: KeyWorkActivity
    score_percent: float


@strawberry.type(description="One attempt at a module's assessment.")
class AssessmentResult(Node):
    pk: strawberry.Private[int]
    candidate_pk: strawberry.Private[int]
    module_pk: strawberry.Private[int]
    center_pk: strawberry.Private[int]
    catalog_version_pk: strawberry.Private[int]
    external_id: str | None = strawberry.field(
        description="The posting system's id for this attempt (shown to that organization)."
    )
    taken_at: datetime.datetime
    taken_on: datetime.date = strawberry.field(
        description=(
            "The day the assessment was taken at the center: the date of takenAt in the offset "
            "it was posted with. The catalog version, the center's authorization, the "
            "prerequisite and the retake wait were judged on this day."
        )
    )
    score_percent: float = strawberry.field(
        description=(
            "The score as judged: the percent sent, exactly, or 100 * correctAnswers / the "
            "module's question count (to the precision of a Float). passed compares it with "
            "the cut score exactly (75.995 fails a 76 cut); round it only to display it."
        )
    )
    passed: bool
    attempt_number: int

    @classmethod
    def from_model(
        cls,
        result: models.AssessmentResult | RecordedResult,
        *,
        viewer_organization: int | None,
    ) -> Self:
        own = viewer_organization is None or viewer_organization == result.organization_id
        return cls(
            id=to_global_id("AssessmentResult", result.id),
            pk=result.id,
            candidate_pk=result.candidate_id,
            module_pk=result.module_id,
            center_pk=result.center_id,
            catalog_version_pk=result.catalog_version_id,
            external_id=result.external_id if own else None,
            taken_at=result.taken_at,
            taken_on=result.taken_on,
            score_percent=as_float(result.score_percent),
            passed=result.passed,
            attempt_number=result.attempt_number,
        )

    @strawberry.field(description="The module, as the catalog version of the day taken had it.")
    async def module(self, info: Info) -> Module:
        catalog = await info.context.resources.catalog.snapshot(self.catalog_version_pk)
        spec = catalog.module_by_id(self.module_pk)
        assert spec is not None
        return Module.from_spec(spec)

    @strawberry.field(
        description="Needs candidates:read (results:read alone reads the result, not the person).",
        extensions=reads_candidates(),
    )
    async def candidate(self, info: Info) -> Candidate:
        found = await info.context.loaders.candidate.load(self.candidate_pk)
        candidate = Candidate.from_visible(found)
        assert candidate is not None, "a visible result's candidate is visible"
        return candidate

    @strawberry.field
    async def center(self, info: Info) -> Center:
        record = await info.context.loaders.center.load(self.center_pk)
        assert record is not None
        return Center.from_record(record, await info.context.catalog_today())

    @strawberry.field
    async def activity_scores(self, info: Info) -> list[ActivityScore]:
        scores = await info.context.loaders.activity_scores.load(self.pk)
        catalog = await info.context.resources.catalog.snapshot(self.catalog_version_pk)
        module = catalog.module_by_id(self.module_pk)
        assert module is not None
        found = []
        for score in scores:
            activity = module.activity(score.activity_number)
            if activity is not None:
                found.append(
                    ActivityScore(
                        activity=KeyWorkActivity.from_spec(activity),
                        score_percent=as_float(score.score_percent),
                    )
                )
        return found


@strawberry.type
class AssessmentResultEdge:
    cursor: str
    node: AssessmentResult


@strawberry.type
class AssessmentResultConnection:
    edges: list[AssessmentResultEdge]
    page_info: PageInfo
    candidate_pk: strawberry.Private[int]

    @strawberry.field(description="Results of the candidate in all, across pages.")
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.result_count.load(self.candidate_pk)


@strawberry.type(description="An employer's permission, from the candidate, to see their record.")
class ConsentGrant(Node):
    organization_name: str
    purpose: str
    granted_at: datetime.datetime
    expires_at: datetime.datetime
    withdrawn_at: datetime.datetime | None
    active: bool

    @classmethod
    def from_model(
        cls, grant: models.ConsentGrant, organization_name: str, *, now: datetime.datetime
    ) -> Self:
        return cls(
            id=to_global_id("ConsentGrant", grant.id),
            organization_name=organization_name,
            purpose=grant.purpose,
            granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            withdrawn_at=grant.withdrawn_at,
            active=grant.withdrawn_at is None and grant.expires_at > now,
        )


@strawberry.type(description="One time the candidate's data reached an outside organization.")
class Disclosure:
    organization_name: str
    kind: str = strawberry.field(
        description="VERIFICATION, RECORD_READ, DIAGNOSTIC, EXPORT or SHARE_REDEEMED"
    )
    purpose: str | None
    at: datetime.datetime

    @classmethod
    def from_model(cls, disclosure: models.Disclosure, organization_name: str) -> Self:
        return cls(
            organization_name=organization_name,
            kind=disclosure.kind,
            purpose=disclosure.purpose,
            at=disclosure.at,
        )


def _require_not_employer(info: Info) -> None:
    # Who else saw a candidate's record is the candidate's (and their school's) business.
    if info.context.require_principal().organization_kind == "EMPLOYER":
        raise Forbidden("Only the candidate's school and registry staff can read this")


@strawberry.type(description="A credential on the transcript, with the college credit it carries.")
class TranscriptEntry:
    credential: Credential
    college_credit_hours: float


@strawberry.type(description="Credentials and college credit (NCCRS) earned.")
class Transcript:
    entries: list[TranscriptEntry] = strawberry.field(
        metadata=field_cost(size=MAX_CREDENTIALS_LISTED)
    )
    total_college_credit_hours: float


@strawberry.type(description="A person in the national registry.")
class Candidate(Node):
    pk: strawberry.Private[int]
    registry_number: str = strawberry.field(description="The person's number in the registry.")
    external_id: str | None = strawberry.field(
        description="Your organization's id for this person, if you registered them."
    )
    given_name: str
    family_name: str

    @classmethod
    def from_model(cls, candidate: models.Candidate, *, external_id: str | None) -> Self:
        return cls(
            id=to_global_id("Candidate", candidate.id),
            pk=candidate.id,
            registry_number=candidate.registry_number,
            external_id=external_id,
            given_name=candidate.given_name,
            family_name=candidate.family_name,
        )

    @classmethod
    def from_visible(cls, found: tuple[models.Candidate, str | None] | None) -> Self | None:
        """What the ``candidate`` loader found: None when the caller may not see them."""
        return None if found is None else cls.from_model(found[0], external_id=found[1])

    @strawberry.field(description="Every attempt, oldest first.")
    async def results(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> AssessmentResultConnection:
        key = ResultPageKey(candidate_id=self.pk, first=page_size(first), after=_after(after))
        page: ResultPage = await info.context.loaders.result_page.load(key)
        viewer = info.context.require_principal()
        organization = None if viewer.is_staff else viewer.organization_id
        edges = [
            AssessmentResultEdge(
                cursor=encode_cursor(r.taken_at.isoformat(), r.id),
                node=AssessmentResult.from_model(r, viewer_organization=organization),
            )
            for r in page.results
        ]
        return AssessmentResultConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            candidate_pk=self.pk,
        )

    @strawberry.field(
        description=(
            f"Oldest first: the newest {MAX_CREDENTIALS_LISTED} at most, priced as that many."
        ),
        metadata=field_cost(size=MAX_CREDENTIALS_LISTED),
    )
    async def credentials(self, info: Info) -> list[Credential]:
        now = datetime.datetime.now(datetime.UTC)
        found = await info.context.loaders.credentials.load(self.pk)
        return [Credential.from_model(c, now=now) for c in found[-MAX_CREDENTIALS_LISTED:]]

    @strawberry.field(description="Employers the candidate shared their record with.")
    async def consent_grants(self, info: Info) -> list[ConsentGrant]:
        _require_not_employer(info)
        now = datetime.datetime.now(datetime.UTC)
        found = await info.context.loaders.consent_grants.load(self.pk)
        return [ConsentGrant.from_model(grant, name, now=now) for grant, name in found]

    @strawberry.field(
        description=(
            "Who saw the candidate's data, when and why: the newest `last` disclosures "
            "(1 to 100), oldest first. Priced as `last` items."
        )
    )
    async def disclosures(self, info: Info, last: int = DEFAULT_DISCLOSURES) -> list[Disclosure]:
        _require_not_employer(info)
        wanted = page_size(last, argument="last")
        found = await info.context.loaders.disclosures.load(self.pk)
        return [Disclosure.from_model(disclosure, name) for disclosure, name in found[-wanted:]]

    @strawberry.field(
        description=(
            "The transcript as a CLR 2.0 ClrCredential (each credential an "
            "OpenBadgeCredential with its own Data Integrity proof; revoked ones left out), "
            "secured as `format` says (a VC-JWT by default)."
        ),
        metadata=field_cost(
            base=TRANSCRIPT_EXPORT_COST,
            base_when={
                "format": {"DATA_INTEGRITY": TRANSCRIPT_EXPORT_COST + DATA_INTEGRITY_EXPORT_COST}
            },
        ),
    )
    async def clr_credential(
        self, info: Info, format: CredentialFormat = CredentialFormat.VC_JWT
    ) -> VerifiableCredentialExport:
        return await verifiable.transcript(info, self.pk, format)

    @strawberry.field(description="Credentials with college-credit hours, and the total.")
    async def transcript(self, info: Info) -> Transcript:
        now = datetime.datetime.now(datetime.UTC)
        catalog = await info.context.catalog_today()
        entries = []
        found = await info.context.loaders.credentials.load(self.pk)
        for credential in found[-MAX_CREDENTIALS_LISTED:]:
            if credential.status == "REVOKED":
                continue  # a revoked credential carries no credit
            spec = catalog.credential_type_by_id(credential.credential_type_id)
            hours = spec.college_credit_hours if spec else None
            entries.append(
                TranscriptEntry(
                    credential=Credential.from_model(credential, now=now),
                    college_credit_hours=float(hours or Decimal(0)),
                )
            )
        total = sum(e.college_credit_hours for e in entries)
        return Transcript(entries=entries, total_college_credit_hours=total)


@strawberry.type
class CandidateEdge:
    cursor: str
    node: Candidate


@strawberry.type
class CandidateConnection:
    edges: list[CandidateEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Candidates matching, across pages (counted when asked).")
    async def total_count(self) -> int:
        return await self.count()


def _after(after: str | None) -> tuple[datetime.datetime, int] | None:
    if after is None:
        return None
    values = decode_cursor(after, 2)
    if values is None or not isinstance(values[0], str) or not isinstance(values[1], int):
        raise BadUserInput("after is not a cursor returned by results; omit it to start over.")
    try:
        return datetime.datetime.fromisoformat(values[0]), values[1]
    except ValueError:
        raise BadUserInput("after is not a cursor returned by results.") from None
