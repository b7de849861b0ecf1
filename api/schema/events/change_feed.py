"""The change feed's GraphQL types: the same fields, with the same names, as a webhook body."""

from __future__ import annotations

import datetime
from typing import Any, Self

import strawberry

from api.schema.pagination import PageInfo


def _moment(value: Any) -> datetime.datetime | None:
    return None if value is None else datetime.datetime.fromisoformat(value)


@strawberry.type(description="Who the change is about, by natural keys.")
class ChangeCandidate:
    registry_number: str | None = strawberry.field(
        description="Null when you follow only a credential you verified."
    )
    external_id: str | None = strawberry.field(
        description="Your organization's id for this person, if you registered them."
    )
    given_name: str | None = strawberry.field(description="On candidate.registered.")
    family_name: str | None = strawberry.field(description="On candidate.registered.")


@strawberry.type(description="The result a result.accepted change recorded.")
class ChangeResult:
    external_id: str | None = strawberry.field(
        description="The posting system's id for the attempt (shown to that organization)."
    )
    module_code: str
    center_site_code: str
    taken_at: datetime.datetime
    score_percent: float
    passed: bool
    attempt_number: int


@strawberry.type(description="The credential a credential.* change concerns.")
class ChangeCredential:
    verification_code: str
    type: str = strawberry.field(description="The credential type's code, e.g. CPT_SAFETY.")
    status: str = strawberry.field(description="The status after the change.")
    previous_status: str | None = strawberry.field(
        description="On credential.status_changed: the status before it."
    )
    changed_at: datetime.datetime | None
    reason: str | None = strawberry.field(
        description="Why, when you may read the person's record; null otherwise."
    )
    caused_by: str | None = strawberry.field(
        description="Verification code of the credential whose change caused this one."
    )
    issued_at: datetime.datetime
    expires_at: datetime.datetime | None


@strawberry.type(description="The consent grant a consent.* change concerns.")
class ChangeConsent:
    organization_name: str
    purpose: str
    granted_at: datetime.datetime
    expires_at: datetime.datetime
    withdrawn_at: datetime.datetime | None


@strawberry.type(description="On candidate.merged: the record folded into this candidate.")
class ChangeMerge:
    merged_registry_number: str


@strawberry.type(description="On import.completed: the import and its counts.")
class ChangeImport:
    id: strawberry.ID = strawberry.field(description="The ResultImport's global ID.")
    kind: str
    state: str = strawberry.field(description="DONE or FAILED.")
    rows_read: int
    created: int
    unchanged: int
    rejected: int
    finished_at: datetime.datetime


@strawberry.type(
    description=(
        "One state change. `type` is candidate.registered, candidate.merged, result.accepted, "
        "credential.issued, credential.status_changed (suspended, reinstated, revoked, "
        "expired), consent.granted, consent.withdrawn or import.completed (an import of "
        "yours finished; it names no candidate)."
    )
)
class Change:
    sequence: str = strawberry.field(
        description=(
            "Global, gap-free, increasing number (a 64-bit integer as a decimal string). "
            "You see only the changes you are entitled to, so your numbers have gaps."
        )
    )
    type: str
    occurred_at: datetime.datetime
    candidate: ChangeCandidate
    result: ChangeResult | None
    credential: ChangeCredential | None
    consent: ChangeConsent | None
    merge: ChangeMerge | None
    import_: ChangeImport | None = strawberry.field(name="import")

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        """From :func:`db.events.change_feed.render_event`'s JSON object (what webhooks deliver)."""
        candidate = body["candidate"]
        result = body.get("result")
        credential = body.get("credential")
        consent = body.get("consent")
        merge = body.get("merge")
        completed = body.get("import")
        return cls(
            sequence=body["sequence"],
            type=body["type"],
            occurred_at=datetime.datetime.fromisoformat(body["occurredAt"]),
            candidate=ChangeCandidate(
                registry_number=candidate.get("registryNumber"),
                external_id=candidate.get("externalId"),
                given_name=candidate.get("givenName"),
                family_name=candidate.get("familyName"),
            ),
            result=None
            if result is None
            else ChangeResult(
                external_id=result["externalId"],
                module_code=result["moduleCode"],
                center_site_code=result["centerSiteCode"],
                taken_at=datetime.datetime.fromisoformat(result["takenAt"]),
                score_percent=result["scorePercent"],
                passed=result["passed"],
                attempt_number=result["attemptNumber"],
            ),
            credential=None
            if credential is None
            else ChangeCredential(
                verification_code=credential["verificationCode"],
                type=credential["type"],
                status=credential["status"],
                previous_status=credential.get("previousStatus"),
                changed_at=_moment(credential.get("changedAt")),
                reason=credential.get("reason"),
                caused_by=credential.get("causedBy"),
                issued_at=datetime.datetime.fromisoformat(credential["issuedAt"]),
                expires_at=_moment(credential.get("expiresAt")),
            ),
            consent=None
            if consent is None
            else ChangeConsent(
                organization_name=consent["organizationName"],
                purpose=consent["purpose"],
                granted_at=datetime.datetime.fromisoformat(consent["grantedAt"]),
                expires_at=datetime.datetime.fromisoformat(consent["expiresAt"]),
                withdrawn_at=_moment(consent.get("withdrawnAt")),
            ),
            merge=None
            if merge is None
            else ChangeMerge(merged_registry_number=merge["mergedRegistryNumber"]),
            import_=None
            if completed is None
            else ChangeImport(
                id=strawberry.ID(completed["id"]),
                kind=completed["kind"],
                state=completed["state"],
                rows_read=completed["rowsRead"],
                created=completed["created"],
                unchanged=completed["unchanged"],
                rejected=completed["rejected"],
                finished_at=datetime.datetime.fromisoformat(completed["finishedAt"]),
            ),
        )


@strawberry.type
class ChangeEdge:
    cursor: str
    node: Change


@strawberry.type
class ChangeConnection:
    edges: list[ChangeEdge]
    page_info: PageInfo = strawberry.field(
        description=(
            "endCursor is where to resume: after the last change returned, or, when the page "
            "is not full, after every change committed so far that you were shown or may not "
            "see. Store it and ask again from there. A page may be empty while hasNextPage "
            "is true: each request looks at a bounded stretch of the feed."
        )
    )
