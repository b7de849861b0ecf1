"""The registry's tables.

Map:
- catalog: ``Program``, ``Module`` and ``CredentialType`` are stable identities; everything that
  policy changes (cut scores, question counts, fees, key work activities, requirements, retake
  waits) lives in rows keyed by a ``CatalogVersion`` with an effective date.
- network: ``Organization`` operates ``Center``s, authorized per program by
  ``CenterAuthorization`` (with a status history); ``Instructor``s and ``Proctor``s, kept
  apart by ``FirewallSide``.
- registry: ``Candidate`` (linked to each organization's external id by ``CandidateLink``),
  ``AssessmentResult`` with ``ActivityScore``s, ``Credential`` with ``CredentialStatusChange``s.
- privacy: ``ShareCode`` → ``ConsentGrant``; every disclosure in ``Disclosure``.
- access: ``OAuthClient`` (hashed secret), ``SigningKey``, ``RevokedToken``, ``IdempotentRequest``.

Rows are never deleted: statuses and history rows record every change.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, created_at_column
from db.earth import Cube

ORGANIZATION_KINDS = ("STAFF", "SCHOOL", "EMPLOYER")
CENTER_KINDS = (
    "HIGH_SCHOOL",
    "COLLEGE",
    "EMPLOYER",
    "UNION",
    "WORKFORCE_AGENCY",
    "CORRECTIONAL",
    "OTHER",
)
AUTHORIZATION_STATUSES = ("ACTIVE", "SUSPENDED", "WITHDRAWN")
CREDENTIAL_KINDS = ("MODULE_CERTIFICATE", "CERTIFICATE", "CERTIFICATION")
CREDENTIAL_STATUSES = ("ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED")
PROCTOR_ROLES = ("PROCTOR", "SITE_COORDINATOR")
FIREWALL_SIDES = ("TRAINING", "CERTIFICATION")
DISCLOSURE_KINDS = ("VERIFICATION", "RECORD_READ", "DIAGNOSTIC", "EXPORT", "SHARE_REDEEMED")


def _enum(name: str, values: tuple[str, ...]) -> Enum:
    # Native PostgreSQL enums are awkward to migrate; a CHECK on text is enough.
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _id() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=True), primary_key=True)


# --- catalog ---------------------------------------------------------------------------


class CatalogVersion(Base):
    """One edition of the standards and policies; in force from ``effective_from``."""

    __tablename__ = "catalog_versions"

    id: Mapped[int] = _id()
    label: Mapped[str] = mapped_column(String(40), unique=True)
    effective_from: Mapped[date] = mapped_column(unique=True)
    source_digest: Mapped[str] = mapped_column(String(64))
    registration_fee_cents: Mapped[int] = mapped_column(Integer)
    retake_wait_days: Mapped[int] = mapped_column(SmallInteger)
    long_retake_wait_days: Mapped[int] = mapped_column(SmallInteger)
    failures_before_long_wait: Mapped[int] = mapped_column(SmallInteger)
    loaded_at: Mapped[datetime] = created_at_column()
    # The client_id of the staff client that published it through GraphQL; None: the command
    # line or start-up. No foreign key: the catalog never depends on the clients table.
    published_by_client_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("registration_fee_cents >= 0", name="fee_not_negative"),
        CheckConstraint(
            "retake_wait_days >= 0 AND long_retake_wait_days >= retake_wait_days "
            "AND failures_before_long_wait >= 1",
            name="retake_policy",
        ),
    )


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(Text)


class Module(Base):
    """A stable module identity; its numbers live in ``ModuleVersion``."""

    __tablename__ = "modules"

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)


class ModuleVersion(Base):
    __tablename__ = "module_versions"

    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), primary_key=True)
    catalog_version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_versions.id"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text)
    question_count: Mapped[int | None] = mapped_column(SmallInteger)
    time_limit_minutes: Mapped[int] = mapped_column(SmallInteger)
    cut_score_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    college_credit_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    required_for_certification: Mapped[bool]
    assessment_fee_cents: Mapped[int] = mapped_column(Integer)
    course_supplement_fee_cents: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("question_count IS NULL OR question_count > 0", name="question_count"),
        CheckConstraint("time_limit_minutes > 0", name="time_limit"),
        CheckConstraint(
            "cut_score_percent IS NULL OR cut_score_percent BETWEEN 0 AND 100", name="cut_score"
        ),
        CheckConstraint(
            "assessment_fee_cents >= 0 AND course_supplement_fee_cents >= 0", name="fees"
        ),
    )


class KeyWorkActivity(Base):
    __tablename__ = "key_work_activities"

    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), primary_key=True)
    catalog_version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_versions.id"), primary_key=True
    )
    number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    sub_systems: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")

    __table_args__ = (CheckConstraint("number > 0", name="number_positive"),)


class CourseAlignment(Base):
    """A state course code (programs of study) aligned to one or more modules."""

    __tablename__ = "course_alignments"

    catalog_version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_versions.id"), primary_key=True
    )
    course_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), primary_key=True)
    course_name: Mapped[str] = mapped_column(Text)


class CredentialType(Base):
    __tablename__ = "credential_types"

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)


class CredentialTypeVersion(Base):
    __tablename__ = "credential_type_versions"

    credential_type_id: Mapped[int] = mapped_column(
        ForeignKey("credential_types.id"), primary_key=True
    )
    catalog_version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_versions.id"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(_enum("credential_kind", CREDENTIAL_KINDS))
    validity_years: Mapped[int | None] = mapped_column(SmallInteger)
    college_credit_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    prerequisite_id: Mapped[int | None] = mapped_column(ForeignKey("credential_types.id"))
    required_module_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    position: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("validity_years IS NULL OR validity_years > 0", name="validity"),
        CheckConstraint("cardinality(required_module_ids) > 0", name="has_requirements"),
    )


# --- network ---------------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(CITEXT, unique=True)
    kind: Mapped[str] = mapped_column(_enum("organization_kind", ORGANIZATION_KINDS))
    created_at: Mapped[datetime] = created_at_column()


class Center(Base):
    __tablename__ = "centers"

    id: Mapped[int] = _id()
    site_code: Mapped[str] = mapped_column(CITEXT, unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(_enum("center_kind", CENTER_KINDS))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    partner_school: Mapped[bool] = mapped_column(server_default=text("false"))
    city: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(String(2), index=True)
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), server_default="US")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # The locator's search key: ``ll_to_earth`` computed once per write instead of per row
    # and query (its domain checks cost ~7 µs a call; see db/network/locator.py and
    # bench/locator.py).
    earth_point: Mapped[Any] = mapped_column(
        Cube(), Computed("ll_to_earth(latitude, longitude)::cube", persisted=True), deferred=True
    )
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_pair"),
        # Locator: nearest-first search by great-circle distance (contrib earthdistance).
        Index("ix_centers_earth_point", "earth_point", postgresql_using="gist"),
        Index(
            "ix_centers_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )


class CenterAuthorization(Base):
    """A center's authorization for one program over a date range; status has a history."""

    __tablename__ = "center_authorizations"

    id: Mapped[int] = _id()
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    authorized_from: Mapped[date]
    authorized_until: Mapped[date | None]
    status: Mapped[str] = mapped_column(_enum("authorization_status", AUTHORIZATION_STATUSES))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "authorized_until IS NULL OR authorized_until >= authorized_from", name="date_range"
        ),
        # One period per start day: authorizing again with the same start renews that period.
        UniqueConstraint("center_id", "program_id", "authorized_from"),
        Index("ix_center_authorizations_center_program", "center_id", "program_id"),
        Index("ix_center_authorizations_program_id", "program_id"),
    )


class CenterAuthorizationChange(Base):
    """Status history: the status in force on a day is the latest change effective by then."""

    __tablename__ = "center_authorization_changes"

    id: Mapped[int] = _id()
    authorization_id: Mapped[int] = mapped_column(
        ForeignKey("center_authorizations.id"), index=True
    )
    status: Mapped[str] = mapped_column(_enum("authorization_status", AUTHORIZATION_STATUSES))
    effective_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = created_at_column()


class Instructor(Base):
    __tablename__ = "instructors"

    id: Mapped[int] = _id()
    given_name: Mapped[str] = mapped_column(Text)
    family_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(CITEXT, unique=True)
    phone: Mapped[str | None] = mapped_column(Text)
    contact_opt_in: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()


class InstructorAuthorization(Base):
    __tablename__ = "instructor_authorizations"

    id: Mapped[int] = _id()
    instructor_id: Mapped[int] = mapped_column(ForeignKey("instructors.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True)
    authorized_from: Mapped[date]
    authorized_until: Mapped[date | None]
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "authorized_until IS NULL OR authorized_until >= authorized_from", name="date_range"
        ),
    )


class InstructorCenter(Base):
    __tablename__ = "instructor_centers"

    instructor_id: Mapped[int] = mapped_column(ForeignKey("instructors.id"), primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), primary_key=True, index=True)


class Proctor(Base):
    """A proctor or site coordinator at a center (the certification side of the firewall)."""

    __tablename__ = "proctors"

    id: Mapped[int] = _id()
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    given_name: Mapped[str] = mapped_column(Text)
    family_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(CITEXT, index=True)
    role: Mapped[str] = mapped_column(_enum("proctor_role", PROCTOR_ROLES))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("center_id", "email", "role"),)


class FirewallSide(Base):
    """Which side of the training/certification firewall a person (by email) stands on.

    ISO/IEC 17024 keeps instructors (TRAINING) apart from proctors and site coordinators
    (CERTIFICATION). The primary key makes the choice once per person, also under concurrent
    registrations; rows are never deleted.
    """

    __tablename__ = "firewall_sides"

    email: Mapped[str] = mapped_column(CITEXT, primary_key=True)
    side: Mapped[str] = mapped_column(_enum("firewall_side", FIREWALL_SIDES))
    created_at: Mapped[datetime] = created_at_column()


# --- registry --------------------------------------------------------------------------


class Candidate(Base):
    __tablename__ = "candidates"

    id: Mapped[int] = _id()
    registry_number: Mapped[str] = mapped_column(String(16), unique=True)
    given_name: Mapped[str] = mapped_column(Text)
    family_name: Mapped[str] = mapped_column(Text)
    # Case- and accent-folded family name, compared when a code is verified or redeemed.
    family_name_key: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(CITEXT)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    registered_by_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # Staff's ``candidates { totalCount }`` counts every live record: from this narrow
        # index alone (an index-only scan) instead of the whole table.
        Index("ix_candidates_unmerged", "id", postgresql_where=text("merged_into_id IS NULL")),
    )


class CandidateLink(Base):
    """An organization's own id for a candidate: the key of ``registerCandidate``."""

    __tablename__ = "candidate_links"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()

    candidate: Mapped[Candidate] = relationship(lazy="raise")

    __table_args__ = (
        # Entitlement joins go from (organization, candidate); keep them index-only.
        Index("ix_candidate_links_org_candidate", "organization_id", "candidate_id"),
    )


class CandidateMerge(Base):
    __tablename__ = "candidate_merges"

    id: Mapped[int] = _id()
    surviving_candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    merged_candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    merged_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = created_at_column()


class AssessmentResult(Base):
    __tablename__ = "assessment_results"

    id: Mapped[int] = _id()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    proctor_id: Mapped[int | None] = mapped_column(ForeignKey("proctors.id"))
    catalog_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    taken_at: Mapped[datetime]
    # The day of the assessment on the center's clock (db/registry/assessment_day.py): the instant
    # above does not keep the offset it was posted with.
    taken_on: Mapped[date]
    correct_answers: Mapped[int | None] = mapped_column(SmallInteger)
    # Exactly as judged (db/registry/scores.py): no scale, so nothing is rounded on the way in.
    score_percent: Mapped[Decimal] = mapped_column(Numeric())
    passed: Mapped[bool]
    attempt_number: Mapped[int] = mapped_column(SmallInteger)
    # Digest of the posted content: an identical re-post is UNCHANGED, a different one CONFLICT.
    content_digest: Mapped[str] = mapped_column(String(64))
    posted_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("organization_id", "external_id"),
        # Deferrable so that a merge can renumber attempts in one statement.
        UniqueConstraint(
            "candidate_id", "module_id", "attempt_number", deferrable=True, initially="IMMEDIATE"
        ),
        CheckConstraint("score_percent BETWEEN 0 AND 100", name="score_percent"),
        CheckConstraint("correct_answers IS NULL OR correct_answers >= 0", name="correct"),
        CheckConstraint("attempt_number > 0", name="attempt_number"),
        Index("ix_assessment_results_candidate", "candidate_id", "taken_at", "id"),
        Index("ix_assessment_results_taken_at", "taken_at"),
        # Dashboards (db/insights/stats.py): every figure about results reads this index alone,
        # by assessment day.
        Index(
            "ix_assessment_results_stats",
            "taken_on",
            postgresql_include=["passed", "module_id", "center_id", "id"],
        ),
    )


class ActivityScore(Base):
    __tablename__ = "activity_scores"

    result_id: Mapped[int] = mapped_column(ForeignKey("assessment_results.id"), primary_key=True)
    activity_number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    score_percent: Mapped[Decimal] = mapped_column(Numeric())  # exactly as sent

    __table_args__ = (CheckConstraint("score_percent BETWEEN 0 AND 100", name="score_percent"),)


class Credential(Base):
    __tablename__ = "credentials"

    id: Mapped[int] = _id()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    credential_type_id: Mapped[int] = mapped_column(ForeignKey("credential_types.id"))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(_enum("credential_status", CREDENTIAL_STATUSES))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    catalog_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    issuing_result_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_results.id"))
    # Revocation is final: a REVOKED credential keeps its type from being issued to the person
    # again until staff allow a new one; this is when they did (the history row of that moment
    # says who and why). NULL: the revocation still blocks (db/registry/credentials.py: issue_date).
    reissue_allowed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "reissue_allowed_at IS NULL OR status = 'REVOKED'", name="reissue_allowed_if_revoked"
        ),
        # Exactly once: at most one live (active or suspended) credential of a type per person.
        Index(
            "uq_credentials_live",
            "candidate_id",
            "credential_type_id",
            unique=True,
            postgresql_where=text("status IN ('ACTIVE', 'SUSPENDED')"),
        ),
        Index("ix_credentials_candidate", "candidate_id", "issued_at"),
        Index("ix_credentials_issued_at", "issued_at"),
        # Dashboards (db/insights/stats.py): credentials issued, and people credentialed,
        # index-only.
        Index(
            "ix_credentials_stats",
            "issued_at",
            postgresql_include=[
                "status",
                "candidate_id",
                "credential_type_id",
                "issuing_result_id",
            ],
        ),
        Index(
            "ix_credentials_unrevoked_candidate",
            "candidate_id",
            "issued_at",
            postgresql_where=text("status <> 'REVOKED'"),
        ),
        Index(
            "ix_credentials_expiry",
            "expires_at",
            postgresql_where=text("status = 'ACTIVE' AND expires_at IS NOT NULL"),
        ),
    )


class CredentialStatusChange(Base):
    __tablename__ = "credential_status_changes"

    id: Mapped[int] = _id()
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"))
    status: Mapped[str] = mapped_column(_enum("credential_status", CREDENTIAL_STATUSES))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    # Set when the change follows from another credential's change (CPT after a module revoke).
    caused_by_credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))

    __table_args__ = (Index("ix_credential_status_changes_credential", "credential_id", "id"),)


# --- privacy ---------------------------------------------------------------------------


class ShareCode(Base):
    """A one-time code a candidate hands an employer; only its hash is stored."""

    __tablename__ = "share_codes"

    id: Mapped[int] = _id()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    created_by_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = created_at_column()
    # Redemptions that named the wrong family name; a handful spend the code
    # (db/registry/consent.py).
    failed_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class ConsentGrant(Base):
    __tablename__ = "consent_grants"

    id: Mapped[int] = _id()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    purpose: Mapped[str] = mapped_column(Text)
    share_code_id: Mapped[int | None] = mapped_column(ForeignKey("share_codes.id"))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Employer entitlement: "does this organization hold a live grant for this candidate?"
        Index("ix_consent_grants_org_candidate", "organization_id", "candidate_id", "expires_at"),
    )


class Disclosure(Base):
    """Every time candidate data reached an outside organization: who, what, when and why."""

    __tablename__ = "disclosures"

    id: Mapped[int] = _id()
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    kind: Mapped[str] = mapped_column(_enum("disclosure_kind", DISCLOSURE_KINDS))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    purpose: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_disclosures_candidate", "candidate_id", "at"),
        # Change feed: "did this employer verify this credential?"
        Index(
            "ix_disclosures_verified",
            "credential_id",
            "organization_id",
            postgresql_where=text("kind = 'VERIFICATION'"),
        ),
    )


# --- access ----------------------------------------------------------------------------


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = _id()
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    disabled_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class SigningKey(Base):
    """An access-token signing key. Retired keys stay published until their tokens expire."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None]


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = created_at_column()


class IdempotentRequest(Base):
    """A whole-request ``Idempotency-Key`` and the response it produced (kept 24 hours)."""

    __tablename__ = "idempotent_requests"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[bytes | None]
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


# --- employer tools --------------------------------------------------------------------


class Cohort(Base):
    """An organization's named list of candidates, for re-running the diagnostic.

    Membership is not entitlement: every read joins the members through ``db.access``, so a
    member whose consent was withdrawn or expired drops out at once, and is back if they
    share their record again.
    """

    __tablename__ = "cohorts"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(CITEXT)
    created_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),
    )


class CohortMember(Base):
    __tablename__ = "cohort_members"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), primary_key=True)
    added_at: Mapped[datetime] = created_at_column()


# --- events out: change feed, webhooks, verifiable credentials ---------------------------

CHANGE_EVENT_TYPES = (
    "candidate.registered",
    "candidate.merged",
    "result.accepted",
    "credential.issued",
    "credential.status_changed",
    "consent.granted",
    "consent.withdrawn",
    "import.completed",
)
DELIVERY_STATUSES = ("PENDING", "DELIVERED", "FAILED")


class EventCounter(Base):
    """The change feed's one counter row: taken last in a transaction, held until commit."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class ChangeEvent(Base):
    """One state change, numbered gap-free in commit order (see ``db/events/change_feed.py``)."""

    __tablename__ = "change_events"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(_enum("change_event_type", CHANGE_EVENT_TYPES))
    # Whose record the event belongs to (moved to the survivor when records are merged); none
    # for an event about an organization's own work (an import completed).
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    # The organization the event concerns: the registering school, the posting school, the
    # employer a consent grant is for, the school whose import completed.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_change_events_candidate", "candidate_id", "sequence"),
        Index(
            "ix_change_events_credential",
            "credential_id",
            "sequence",
            postgresql_where=text("credential_id IS NOT NULL"),
        ),
        Index(
            "ix_change_events_organization",
            "organization_id",
            "sequence",
            postgresql_where=text("organization_id IS NOT NULL"),
        ),
    )


class Webhook(Base):
    """An organization's endpoint: a consumer of the change feed with its own cursor."""

    __tablename__ = "webhooks"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # HMAC key for the signatures; shown to the creator once.
    secret: Mapped[str] = mapped_column(Text)
    # What the creating client could read, so deliveries never show more than its token did.
    reads_records: Mapped[bool]
    reads_verified: Mapped[bool]
    # Last change-feed sequence fanned out into deliveries.
    cursor: Mapped[int] = mapped_column(BigInteger)
    created_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = created_at_column()
    disabled_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("cardinality(event_types) > 0", name="has_event_types"),)


class WebhookDelivery(Base):
    """The outbox: one change for one endpoint, with its attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = _id()
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    sequence: Mapped[int] = mapped_column(ForeignKey("change_events.sequence"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes]
    status: Mapped[str] = mapped_column(_enum("delivery_status", DELIVERY_STATUSES))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    give_up_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("webhook_id", "sequence"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
        # In order per candidate: "is an earlier delivery to this endpoint still pending?"
        Index(
            "ix_webhook_deliveries_pending_candidate",
            "webhook_id",
            "candidate_id",
            "sequence",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )


class StatusList(Base):
    """A W3C Bitstring Status List. ``status_size`` 2: one two-bit ``message`` entry per
    credential (``db/events/status_lists.py``); 1: the lists of before, published twice, for
    revocation and for suspension, kept for the credentials that point into them."""

    __tablename__ = "status_lists"

    id: Mapped[int] = _id()
    size: Mapped[int] = mapped_column(Integer)
    status_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("size >= 131072 AND size % 8 = 0", name="size"),
        CheckConstraint("status_size IN (1, 2)", name="status_size"),
        # The target of the entries' foreign key, which carries the status size along.
        UniqueConstraint("id", "status_size"),
    )


class CredentialStatusEntry(Base):
    """A credential's random position in a status list, allocated on first export: at most one
    per status size, so a credential exported before the two-bit lists keeps its old position
    (credentials in wallets point to it) and gets a new one."""

    __tablename__ = "credential_status_entries"

    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), primary_key=True)
    status_size: Mapped[int] = mapped_column(Integer, primary_key=True)
    status_list_id: Mapped[int] = mapped_column(BigInteger)
    status_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        CheckConstraint("status_index >= 0", name="index_not_negative"),
        ForeignKeyConstraint(
            ["status_list_id", "status_size"], ["status_lists.id", "status_lists.status_size"]
        ),
    )


class CredentialSigningKey(Base):
    """A verifiable-credential signing key's public half. Never dropped: credentials it signed
    stay verifiable for as long as they are valid."""

    __tablename__ = "credential_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()


# --- imports: result files a school uploads, worked through in the background -----------

IMPORT_KINDS = ("RESULTS", "ONEROSTER")
IMPORT_STATES = ("QUEUED", "RUNNING", "DONE", "FAILED")


class ResultImport(Base):
    """An uploaded file of results, and how far the import worker has come through it
    (``db/imports/``). The counters move with ``parts_done`` in one transaction, so a worker
    that resumes the import after a restart starts at the first part not yet counted."""

    __tablename__ = "result_imports"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_clients.id"))
    kind: Mapped[str] = mapped_column(_enum("import_kind", IMPORT_KINDS))
    state: Mapped[str] = mapped_column(_enum("import_state", IMPORT_STATES))
    filename: Mapped[str | None] = mapped_column(Text)
    # The columns of the file, as the rejected rows echo them back.
    columns: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # The uploader could register candidates (candidates:write): rows that name one not yet
    # registered register it on the way.
    registers_candidates: Mapped[bool]
    row_count: Mapped[int] = mapped_column(Integer)
    part_count: Mapped[int] = mapped_column(Integer)
    parts_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rows_read: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    unchanged: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rejected: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # When the part at ``parts_done`` was first started: a result that part created before a
    # restart answers UNCHANGED when the part runs again, and counts as created all the same.
    part_started_at: Mapped[datetime | None]
    # The worker holding the import: its lease, and a token that fences off a worker whose
    # lease ran out (it may not count anything any more).
    leased_until: Mapped[datetime | None]
    lease_token: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Failed tries of the current part (errors the worker did not expect); FAILED past a few.
    failures: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "rows_read = created + unchanged + rejected AND rows_read <= row_count "
            "AND parts_done <= part_count AND created >= 0 AND unchanged >= 0 AND rejected >= 0",
            name="counts",
        ),
        CheckConstraint(
            "(state IN ('DONE', 'FAILED')) = (finished_at IS NOT NULL)", name="finished"
        ),
        # An organization's imports, newest first (``resultImports``).
        Index("ix_result_imports_organization", "organization_id", "id"),
        # The worker's queue: only unfinished imports are in it.
        Index(
            "ix_result_imports_unfinished",
            "id",
            postgresql_where=text("state IN ('QUEUED', 'RUNNING')"),
        ),
    )


class ResultImportPart(Base):
    """The stored upload, cut into parts of whole rows: one part is one batch of the import.

    Kept in PostgreSQL so that any server process may resume any import; removed when the
    import finishes."""

    __tablename__ = "result_import_parts"

    import_id: Mapped[int] = mapped_column(ForeignKey("result_imports.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_row: Mapped[int] = mapped_column(Integer)  # the ordinal of its first data row
    lines: Mapped[list[int]] = mapped_column(ARRAY(Integer))  # the line each row starts on
    body: Mapped[str] = mapped_column(Text)  # the rows, in their source's format


class ResultImportRejection(Base):
    """A row the import could not record: where it is, why, and what it said."""

    __tablename__ = "result_import_rejections"

    import_id: Mapped[int] = mapped_column(ForeignKey("result_imports.id"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)  # ordinal among the data rows
    line: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    # The row's values, aligned with the import's ``columns``.
    values: Mapped[list[str]] = mapped_column(ARRAY(Text))


ONE_ROSTER_MAPPING_KINDS = ("LINE_ITEM", "COURSE", "ORG")


class OneRosterMapping(Base):
    """How a school's OneRoster gradebook reads in the registry (``db/imports/oneroster``):
    a line item (by ``sourced_id``, or a ``title_pattern``) or a course (by course code) to a
    module code; an org (by ``sourced_id`` or identifier) to one of the school's centers."""

    __tablename__ = "one_roster_mappings"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(_enum("one_roster_mapping_kind", ONE_ROSTER_MAPPING_KINDS))
    sourced_id: Mapped[str | None] = mapped_column(Text)
    title_pattern: Mapped[str | None] = mapped_column(Text)
    module_code: Mapped[str | None] = mapped_column(Text)
    center_site_code: Mapped[str | None] = mapped_column(CITEXT)
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(
            "(sourced_id IS NULL) <> (title_pattern IS NULL) "
            "AND (title_pattern IS NULL OR kind = 'LINE_ITEM') "
            "AND (kind = 'ORG') = (center_site_code IS NOT NULL) "
            "AND (kind = 'ORG') = (module_code IS NULL)",
            name="shape",
        ),
        Index(
            "uq_one_roster_mappings_sourced_id",
            "organization_id",
            "kind",
            "sourced_id",
            unique=True,
            postgresql_where=text("sourced_id IS NOT NULL"),
        ),
        Index(
            "uq_one_roster_mappings_title_pattern",
            "organization_id",
            "title_pattern",
            unique=True,
            postgresql_where=text("title_pattern IS NOT NULL"),
        ),
    )


class OneRosterLineItem(Base):
    """A line item a school PUT to the OneRoster gradebook REST service, as it sent it: what a
    result PUT later is scaled by (``resultValueMin``/``Max``) and mapped through."""

    __tablename__ = "one_roster_line_items"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    sourced_id: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("organization_id", "sourced_id"),)


class OneRosterResult(Base):
    """A result a school PUT to the OneRoster gradebook REST service, as it sent it, and the
    assessment result it recorded (none for a result not fully graded)."""

    __tablename__ = "one_roster_results"

    id: Mapped[int] = _id()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    sourced_id: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    assessment_result_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_results.id"))
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("organization_id", "sourced_id"),)


# --- audit -----------------------------------------------------------------------------


AUDIT_KINDS = ("MUTATION", "DISCLOSURE")
AUDIT_OUTCOMES = ("OK", "USER_ERRORS", "ERROR")


class AuditEvent(Base):
    """Every mutation and every disclosure of candidate data: who, what, when, which request.

    Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration ``f1audit``). No
    foreign keys, so that the trail outlives anything it mentions and never blocks a write.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = _id()
    at: Mapped[datetime] = created_at_column()
    request_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(_enum("audit_kind", AUDIT_KINDS))
    action: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(_enum("audit_outcome", AUDIT_OUTCOMES))
    error_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    candidate_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    record_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")

    __table_args__ = (
        # Each staff filter walks one index newest first (keyset on id).
        Index("ix_audit_events_organization", "organization_id", "id"),
        Index("ix_audit_events_client", "client_id", "id"),
        Index("ix_audit_events_action", "action", "id"),
        Index("ix_audit_events_candidates", "candidate_ids", postgresql_using="gin"),
    )
