"""What a posted result is and what it becomes: the values the rules engine passes around.

Kept apart from the rules (``db/registry/results.py``) and from the set-based recorder
(``db/registry/result_batches.py``) so that both can use them. Recorded results and issued
credentials are plain values, not ORM objects: a batch of 500 answers with up to a thousand of them,
and building ORM instances for an answer that is only serialised costs more than judging it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import orjson

from db import models
from db.catalog.versions import CatalogSnapshot, ModuleSpec
from db.platform.numbers import canonical_text
from db.registry.assessment_day import assessment_day
from db.registry.scores import Score, as_float

Status = Literal["CREATED", "UNCHANGED", "REJECTED"]


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    field: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class ResultSubmission:
    external_id: str
    module_code: str
    center_site_code: str
    taken_at: datetime
    candidate_pk: int | None = None
    candidate_external_id: str | None = None
    correct_answers: int | None = None
    score_percent: Decimal | None = None
    activity_scores: tuple[tuple[int, Decimal], ...] = ()
    proctor_pk: int | None = None
    # A percent known only as a fraction (a OneRoster score scaled by its line item's range),
    # judged exactly: the third way to give a score, for imports.
    score_fraction: Fraction | None = None
    # The range the fraction was scaled from, as the poster wrote it: for the message that
    # refuses a score outside it, not part of the content (the fraction already is).
    score_range: tuple[Decimal, Decimal] | None = None

    def digest(self) -> str:
        """Fingerprint of the content: equal for a faithful retry, different for an edit."""
        content = {
            "candidate": [self.candidate_pk, self.candidate_external_id],
            "module": self.module_code,
            "center": self.center_site_code.upper(),
            "taken_at": self.taken_at.astimezone(UTC).isoformat(),
            "correct": self.correct_answers,
            "percent": None if self.score_percent is None else canonical_text(self.score_percent),
            "activities": sorted((n, canonical_text(p)) for n, p in self.activity_scores),
            "proctor": self.proctor_pk,
        }
        if self.score_fraction is not None:
            # Only when given, so every digest stored before the fraction existed still holds.
            content["fraction"] = str(self.score_fraction)
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordedResult:
    """A stored assessment result, as the registry answers with it."""

    id: int
    candidate_id: int
    module_id: int
    center_id: int
    organization_id: int
    catalog_version_id: int
    external_id: str
    taken_at: datetime
    taken_on: date
    score_percent: Decimal
    passed: bool
    attempt_number: int
    content_digest: str

    @classmethod
    def of(cls, result: models.AssessmentResult) -> RecordedResult:
        return cls(
            id=result.id,
            candidate_id=result.candidate_id,
            module_id=result.module_id,
            center_id=result.center_id,
            organization_id=result.organization_id,
            catalog_version_id=result.catalog_version_id,
            external_id=result.external_id,
            taken_at=result.taken_at,
            taken_on=result.taken_on,
            score_percent=result.score_percent,
            passed=result.passed,
            attempt_number=result.attempt_number,
            content_digest=result.content_digest,
        )


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential a result issued (or reinstated), as the registry answers with it."""

    id: int
    candidate_id: int
    credential_type_id: int
    verification_code: str
    status: str
    issued_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, credential: models.Credential) -> IssuedCredential:
        return cls(
            id=credential.id,
            candidate_id=credential.candidate_id,
            credential_type_id=credential.credential_type_id,
            verification_code=credential.verification_code,
            status=credential.status,
            issued_at=credential.issued_at,
            expires_at=credential.expires_at,
        )


@dataclass(slots=True)
class Outcome:
    status: Status
    result: RecordedResult | None = None
    credentials_issued: list[IssuedCredential] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def rejected(code: str, field_name: str | None, message: str) -> Outcome:
    path = (field_name,) if field_name else ()
    return Outcome(status="REJECTED", problems=[Problem(code, path, message)])


def existing_outcome(stored: RecordedResult, submission: ResultSubmission) -> Outcome:
    """A re-post of a stored external id: a faithful retry, or an edit we refuse.

    The credentials a retry answers with are filled in by the caller, for all retries at once.
    The digest sees the instant, not the offset it was written in; the offset decides the day
    the result was judged on (``assessment_day``), so the same instant on another day is an
    edit too.
    """
    if stored.content_digest != submission.digest() or stored.taken_on != assessment_day(
        submission.taken_at
    ):
        return rejected(
            "CONFLICT",
            "externalId",
            f"result {submission.external_id!r} was already posted with different content",
        )
    return Outcome(status="UNCHANGED", result=stored)


@dataclass(frozen=True, slots=True)
class Poster:
    """Who is posting: the organization (its centers, its candidates) and the client."""

    organization_id: int
    organization_kind: str
    client_pk: int | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An item that passed every rule that needs no lock: ready to be recorded."""

    index: int
    submission: ResultSubmission
    taken_on: date  # the day of the assessment (db/registry/assessment_day.py), computed once
    candidate_id: int
    module: ModuleSpec
    catalog: CatalogSnapshot
    center_id: int
    center_site_code: str
    score: Score
    digest: str

    @property
    def passed(self) -> bool:
        assert self.module.cut_score_percent is not None, "prepare() refuses modules without one"
        return self.score.meets(self.module.cut_score_percent)


def event_facts(item: Prepared, *, passed: bool, attempt_number: int) -> dict[str, object]:
    """The ``result`` section of a ``result.accepted`` change event."""
    return {
        "externalId": item.submission.external_id,
        "moduleCode": item.module.code,
        "centerSiteCode": item.center_site_code,
        "takenAt": item.submission.taken_at.isoformat(),
        "scorePercent": as_float(item.score.stored),
        "passed": passed,
        "attemptNumber": attempt_number,
    }
