"""The registry schema: catalog, network, registry, privacy and access tables.

Extensions come from PostgreSQL contrib: citext (case-insensitive codes and emails),
cube + earthdistance (the center locator's great-circle index), pg_trgm (center name search).
Downgrade leaves the extensions installed: other schemas in the database may use them.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:05:10.503935
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


EXTENSIONS = ("citext", "cube", "earthdistance", "pg_trgm")


def upgrade() -> None:
    for extension in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("registration_fee_cents", sa.Integer(), nullable=False),
        sa.Column("retake_wait_days", sa.SmallInteger(), nullable=False),
        sa.Column("long_retake_wait_days", sa.SmallInteger(), nullable=False),
        sa.Column("failures_before_long_wait", sa.SmallInteger(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "registration_fee_cents >= 0", name=op.f("ck_catalog_versions_fee_not_negative")
        ),
        sa.CheckConstraint(
            "retake_wait_days >= 0 AND long_retake_wait_days >= retake_wait_days AND failures_before_long_wait >= 1",
            name=op.f("ck_catalog_versions_retake_policy"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_catalog_versions_effective_from")),
        sa.UniqueConstraint("label", name=op.f("uq_catalog_versions_label")),
    )
    op.create_table(
        "instructors",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("contact_opt_in", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructors")),
        sa.UniqueConstraint("email", name=op.f("uq_instructors_email")),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("name", postgresql.CITEXT(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "STAFF",
                "SCHOOL",
                "EMPLOYER",
                name="organization_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "programs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("code", name=op.f("uq_programs_code")),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"], unique=False
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("registry_number", sa.String(length=16), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("family_name_key", sa.Text(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=True),
        sa.Column("merged_into_id", sa.BigInteger(), nullable=True),
        sa.Column("registered_by_organization_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["candidates.id"],
            name=op.f("fk_candidates_merged_into_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_organization_id"],
            ["organizations.id"],
            name=op.f("fk_candidates_registered_by_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("registry_number", name=op.f("uq_candidates_registry_number")),
    )
    op.create_table(
        "centers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("site_code", postgresql.CITEXT(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "HIGH_SCHOOL",
                "COLLEGE",
                "EMPLOYER",
                "UNION",
                "WORKFORCE_AGENCY",
                "CORRECTIONAL",
                "OTHER",
                name="center_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("partner_school", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.Column("country", sa.String(length=2), server_default="US", nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_centers_coordinates_pair")
        ),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_centers_latitude")),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name=op.f("ck_centers_longitude")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_centers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centers")),
        sa.UniqueConstraint("site_code", name=op.f("uq_centers_site_code")),
    )
    op.create_index(
        "ix_centers_earth",
        "centers",
        [sa.literal_column("ll_to_earth(latitude, longitude)")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("latitude IS NOT NULL"),
    )
    op.create_index(
        "ix_centers_name_trgm",
        "centers",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_centers_organization_id"), "centers", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_centers_state"), "centers", ["state"], unique=False)
    op.create_table(
        "credential_types",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_credential_types_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_types")),
        sa.UniqueConstraint("code", name=op.f("uq_credential_types_code")),
    )
    op.create_index(
        op.f("ix_credential_types_program_id"), "credential_types", ["program_id"], unique=False
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_idempotent_requests_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "key", name=op.f("pk_idempotent_requests")),
    )
    op.create_index(
        op.f("ix_idempotent_requests_expires_at"),
        "idempotent_requests",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "modules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_modules_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modules")),
        sa.UniqueConstraint("code", name=op.f("uq_modules_code")),
    )
    op.create_index(op.f("ix_modules_program_id"), "modules", ["program_id"], unique=False)
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_oauth_clients_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_index(
        op.f("ix_oauth_clients_organization_id"), "oauth_clients", ["organization_id"], unique=False
    )
    op.create_table(
        "candidate_links",
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_candidate_links_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_candidate_links_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "external_id", name=op.f("pk_candidate_links")),
    )
    op.create_index(
        op.f("ix_candidate_links_candidate_id"), "candidate_links", ["candidate_id"], unique=False
    )
    op.create_index(
        "ix_candidate_links_org_candidate",
        "candidate_links",
        ["organization_id", "candidate_id"],
        unique=False,
    )
    op.create_table(
        "candidate_merges",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("surviving_candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("merged_candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["merged_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_candidate_merges_merged_by_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_candidate_id"],
            ["candidates.id"],
            name=op.f("fk_candidate_merges_merged_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["surviving_candidate_id"],
            ["candidates.id"],
            name=op.f("fk_candidate_merges_surviving_candidate_id_candidates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_merges")),
        sa.UniqueConstraint(
            "merged_candidate_id", name=op.f("uq_candidate_merges_merged_candidate_id")
        ),
    )
    op.create_table(
        "center_authorizations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("program_id", sa.BigInteger(), nullable=False),
        sa.Column("authorized_from", sa.Date(), nullable=False),
        sa.Column("authorized_until", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "SUSPENDED",
                "WITHDRAWN",
                name="authorization_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "authorized_until IS NULL OR authorized_until >= authorized_from",
            name=op.f("ck_center_authorizations_date_range"),
        ),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_center_authorizations_center_id_centers")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_center_authorizations_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_center_authorizations")),
    )
    op.create_index(
        "ix_center_authorizations_center_program",
        "center_authorizations",
        ["center_id", "program_id"],
        unique=False,
    )
    op.create_index(
        "ix_center_authorizations_program_id", "center_authorizations", ["program_id"], unique=False
    )
    op.create_table(
        "course_alignments",
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("module_id", sa.BigInteger(), nullable=False),
        sa.Column("course_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_course_alignments_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_course_alignments_module_id_modules")
        ),
        sa.PrimaryKeyConstraint(
            "catalog_version_id", "course_code", "module_id", name=op.f("pk_course_alignments")
        ),
    )
    op.create_table(
        "credential_type_versions",
        sa.Column("credential_type_id", sa.BigInteger(), nullable=False),
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "MODULE_CERTIFICATE",
                "CERTIFICATE",
                "CERTIFICATION",
                name="credential_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("validity_years", sa.SmallInteger(), nullable=True),
        sa.Column("college_credit_hours", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("prerequisite_id", sa.BigInteger(), nullable=True),
        sa.Column("required_module_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "cardinality(required_module_ids) > 0",
            name=op.f("ck_credential_type_versions_has_requirements"),
        ),
        sa.CheckConstraint(
            "validity_years IS NULL OR validity_years > 0",
            name=op.f("ck_credential_type_versions_validity"),
        ),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_credential_type_versions_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_type_id"],
            ["credential_types.id"],
            name=op.f("fk_credential_type_versions_credential_type_id_credential_types"),
        ),
        sa.ForeignKeyConstraint(
            ["prerequisite_id"],
            ["credential_types.id"],
            name=op.f("fk_credential_type_versions_prerequisite_id_credential_types"),
        ),
        sa.PrimaryKeyConstraint(
            "credential_type_id", "catalog_version_id", name=op.f("pk_credential_type_versions")
        ),
    )
    op.create_table(
        "instructor_authorizations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("instructor_id", sa.BigInteger(), nullable=False),
        sa.Column("module_id", sa.BigInteger(), nullable=False),
        sa.Column("authorized_from", sa.Date(), nullable=False),
        sa.Column("authorized_until", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "authorized_until IS NULL OR authorized_until >= authorized_from",
            name=op.f("ck_instructor_authorizations_date_range"),
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["instructors.id"],
            name=op.f("fk_instructor_authorizations_instructor_id_instructors"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["modules.id"],
            name=op.f("fk_instructor_authorizations_module_id_modules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor_authorizations")),
    )
    op.create_index(
        op.f("ix_instructor_authorizations_instructor_id"),
        "instructor_authorizations",
        ["instructor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_instructor_authorizations_module_id"),
        "instructor_authorizations",
        ["module_id"],
        unique=False,
    )
    op.create_table(
        "instructor_centers",
        sa.Column("instructor_id", sa.BigInteger(), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_instructor_centers_center_id_centers")
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["instructors.id"],
            name=op.f("fk_instructor_centers_instructor_id_instructors"),
        ),
        sa.PrimaryKeyConstraint("instructor_id", "center_id", name=op.f("pk_instructor_centers")),
    )
    op.create_index(
        op.f("ix_instructor_centers_center_id"), "instructor_centers", ["center_id"], unique=False
    )
    op.create_table(
        "key_work_activities",
        sa.Column("module_id", sa.BigInteger(), nullable=False),
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sub_systems", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_key_work_activities_number_positive")),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_key_work_activities_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_key_work_activities_module_id_modules")
        ),
        sa.PrimaryKeyConstraint(
            "module_id", "catalog_version_id", "number", name=op.f("pk_key_work_activities")
        ),
    )
    op.create_table(
        "module_versions",
        sa.Column("module_id", sa.BigInteger(), nullable=False),
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("question_count", sa.SmallInteger(), nullable=True),
        sa.Column("time_limit_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("cut_score_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("college_credit_hours", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("required_for_certification", sa.Boolean(), nullable=False),
        sa.Column("assessment_fee_cents", sa.Integer(), nullable=False),
        sa.Column("course_supplement_fee_cents", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "assessment_fee_cents >= 0 AND course_supplement_fee_cents >= 0",
            name=op.f("ck_module_versions_fees"),
        ),
        sa.CheckConstraint(
            "cut_score_percent IS NULL OR cut_score_percent BETWEEN 0 AND 100",
            name=op.f("ck_module_versions_cut_score"),
        ),
        sa.CheckConstraint(
            "question_count IS NULL OR question_count > 0",
            name=op.f("ck_module_versions_question_count"),
        ),
        sa.CheckConstraint("time_limit_minutes > 0", name=op.f("ck_module_versions_time_limit")),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_module_versions_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_module_versions_module_id_modules")
        ),
        sa.PrimaryKeyConstraint("module_id", "catalog_version_id", name=op.f("pk_module_versions")),
    )
    op.create_table(
        "proctors",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "PROCTOR",
                "SITE_COORDINATOR",
                name="proctor_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_proctors_center_id_centers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proctors")),
        sa.UniqueConstraint(
            "center_id", "email", "role", name=op.f("uq_proctors_center_id_email_role")
        ),
    )
    op.create_index(op.f("ix_proctors_center_id"), "proctors", ["center_id"], unique=False)
    op.create_index(op.f("ix_proctors_email"), "proctors", ["email"], unique=False)
    op.create_table(
        "share_codes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by_organization_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by_organization_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name=op.f("fk_share_codes_candidate_id_candidates")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_organization_id"],
            ["organizations.id"],
            name=op.f("fk_share_codes_created_by_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by_organization_id"],
            ["organizations.id"],
            name=op.f("fk_share_codes_redeemed_by_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_share_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_share_codes_candidate_id"), "share_codes", ["candidate_id"], unique=False
    )
    op.create_table(
        "assessment_results",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("module_id", sa.BigInteger(), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("proctor_id", sa.BigInteger(), nullable=True),
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correct_answers", sa.SmallInteger(), nullable=True),
        sa.Column("score_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("attempt_number", sa.SmallInteger(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("posted_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("attempt_number > 0", name=op.f("ck_assessment_results_attempt_number")),
        sa.CheckConstraint(
            "correct_answers IS NULL OR correct_answers >= 0",
            name=op.f("ck_assessment_results_correct"),
        ),
        sa.CheckConstraint(
            "score_percent BETWEEN 0 AND 100", name=op.f("ck_assessment_results_score_percent")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_assessment_results_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_assessment_results_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_assessment_results_center_id_centers")
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_assessment_results_module_id_modules")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assessment_results_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_assessment_results_posted_by_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["proctor_id"], ["proctors.id"], name=op.f("fk_assessment_results_proctor_id_proctors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_results")),
        sa.UniqueConstraint(
            "candidate_id",
            "module_id",
            "attempt_number",
            name=op.f("uq_assessment_results_candidate_id_module_id_attempt_number"),
            deferrable=True,
            initially="IMMEDIATE",
        ),
        sa.UniqueConstraint(
            "organization_id",
            "external_id",
            name=op.f("uq_assessment_results_organization_id_external_id"),
        ),
    )
    op.create_index(
        "ix_assessment_results_candidate",
        "assessment_results",
        ["candidate_id", "taken_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assessment_results_center_id"), "assessment_results", ["center_id"], unique=False
    )
    op.create_index(
        "ix_assessment_results_taken_at", "assessment_results", ["taken_at"], unique=False
    )
    op.create_table(
        "center_authorization_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("authorization_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "SUSPENDED",
                "WITHDRAWN",
                name="authorization_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["center_authorizations.id"],
            name=op.f("fk_center_authorization_changes_authorization_id_center_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_center_authorization_changes_changed_by_client_id_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_center_authorization_changes")),
    )
    op.create_index(
        op.f("ix_center_authorization_changes_authorization_id"),
        "center_authorization_changes",
        ["authorization_id"],
        unique=False,
    )
    op.create_table(
        "consent_grants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("share_code_id", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_consent_grants_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_consent_grants_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["share_code_id"],
            ["share_codes.id"],
            name=op.f("fk_consent_grants_share_code_id_share_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grants")),
    )
    op.create_index(
        op.f("ix_consent_grants_candidate_id"), "consent_grants", ["candidate_id"], unique=False
    )
    op.create_index(
        "ix_consent_grants_org_candidate",
        "consent_grants",
        ["organization_id", "candidate_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "activity_scores",
        sa.Column("result_id", sa.BigInteger(), nullable=False),
        sa.Column("activity_number", sa.SmallInteger(), nullable=False),
        sa.Column("score_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.CheckConstraint(
            "score_percent BETWEEN 0 AND 100", name=op.f("ck_activity_scores_score_percent")
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["assessment_results.id"],
            name=op.f("fk_activity_scores_result_id_assessment_results"),
        ),
        sa.PrimaryKeyConstraint("result_id", "activity_number", name=op.f("pk_activity_scores")),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("credential_type_id", sa.BigInteger(), nullable=False),
        sa.Column("verification_code", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "SUSPENDED",
                "REVOKED",
                "EXPIRED",
                name="credential_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("catalog_version_id", sa.BigInteger(), nullable=False),
        sa.Column("issuing_result_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name=op.f("fk_credentials_candidate_id_candidates")
        ),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_credentials_catalog_version_id_catalog_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_type_id"],
            ["credential_types.id"],
            name=op.f("fk_credentials_credential_type_id_credential_types"),
        ),
        sa.ForeignKeyConstraint(
            ["issuing_result_id"],
            ["assessment_results.id"],
            name=op.f("fk_credentials_issuing_result_id_assessment_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_credentials_verification_code")),
    )
    op.create_index(
        "ix_credentials_candidate", "credentials", ["candidate_id", "issued_at"], unique=False
    )
    op.create_index(
        "ix_credentials_expiry",
        "credentials",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'ACTIVE' AND expires_at IS NOT NULL"),
    )
    op.create_index("ix_credentials_issued_at", "credentials", ["issued_at"], unique=False)
    op.create_index(
        "uq_credentials_live",
        "credentials",
        ["candidate_id", "credential_type_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('ACTIVE', 'SUSPENDED')"),
    )
    op.create_table(
        "credential_status_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("credential_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "SUSPENDED",
                "REVOKED",
                "EXPIRED",
                name="credential_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column("caused_by_credential_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["caused_by_credential_id"],
            ["credentials.id"],
            name=op.f("fk_credential_status_changes_caused_by_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_credential_status_changes_changed_by_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_credential_status_changes_credential_id_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_status_changes")),
    )
    op.create_index(
        "ix_credential_status_changes_credential",
        "credential_status_changes",
        ["credential_id", "id"],
        unique=False,
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "VERIFICATION",
                "RECORD_READ",
                "DIAGNOSTIC",
                "EXPORT",
                "SHARE_REDEEMED",
                name="disclosure_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("credential_id", sa.BigInteger(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name=op.f("fk_disclosures_candidate_id_candidates")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oauth_clients.id"], name=op.f("fk_disclosures_client_id_oauth_clients")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_disclosures_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_disclosures_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index("ix_disclosures_candidate", "disclosures", ["candidate_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_disclosures_candidate", table_name="disclosures")
    op.drop_table("disclosures")
    op.drop_index("ix_credential_status_changes_credential", table_name="credential_status_changes")
    op.drop_table("credential_status_changes")
    op.drop_index(
        "uq_credentials_live",
        table_name="credentials",
        postgresql_where=sa.text("status IN ('ACTIVE', 'SUSPENDED')"),
    )
    op.drop_index("ix_credentials_issued_at", table_name="credentials")
    op.drop_index(
        "ix_credentials_expiry",
        table_name="credentials",
        postgresql_where=sa.text("status = 'ACTIVE' AND expires_at IS NOT NULL"),
    )
    op.drop_index("ix_credentials_candidate", table_name="credentials")
    op.drop_table("credentials")
    op.drop_table("activity_scores")
    op.drop_index("ix_consent_grants_org_candidate", table_name="consent_grants")
    op.drop_index(op.f("ix_consent_grants_candidate_id"), table_name="consent_grants")
    op.drop_table("consent_grants")
    op.drop_index(
        op.f("ix_center_authorization_changes_authorization_id"),
        table_name="center_authorization_changes",
    )
    op.drop_table("center_authorization_changes")
    op.drop_index("ix_assessment_results_taken_at", table_name="assessment_results")
    op.drop_index(op.f("ix_assessment_results_center_id"), table_name="assessment_results")
    op.drop_index("ix_assessment_results_candidate", table_name="assessment_results")
    op.drop_table("assessment_results")
    op.drop_index(op.f("ix_share_codes_candidate_id"), table_name="share_codes")
    op.drop_table("share_codes")
    op.drop_index(op.f("ix_proctors_email"), table_name="proctors")
    op.drop_index(op.f("ix_proctors_center_id"), table_name="proctors")
    op.drop_table("proctors")
    op.drop_table("module_versions")
    op.drop_table("key_work_activities")
    op.drop_index(op.f("ix_instructor_centers_center_id"), table_name="instructor_centers")
    op.drop_table("instructor_centers")
    op.drop_index(
        op.f("ix_instructor_authorizations_module_id"), table_name="instructor_authorizations"
    )
    op.drop_index(
        op.f("ix_instructor_authorizations_instructor_id"), table_name="instructor_authorizations"
    )
    op.drop_table("instructor_authorizations")
    op.drop_table("credential_type_versions")
    op.drop_table("course_alignments")
    op.drop_index("ix_center_authorizations_program_id", table_name="center_authorizations")
    op.drop_index("ix_center_authorizations_center_program", table_name="center_authorizations")
    op.drop_table("center_authorizations")
    op.drop_table("candidate_merges")
    op.drop_index("ix_candidate_links_org_candidate", table_name="candidate_links")
    op.drop_index(op.f("ix_candidate_links_candidate_id"), table_name="candidate_links")
    op.drop_table("candidate_links")
    op.drop_index(op.f("ix_oauth_clients_organization_id"), table_name="oauth_clients")
    op.drop_table("oauth_clients")
    op.drop_index(op.f("ix_modules_program_id"), table_name="modules")
    op.drop_table("modules")
    op.drop_index(op.f("ix_idempotent_requests_expires_at"), table_name="idempotent_requests")
    op.drop_table("idempotent_requests")
    op.drop_index(op.f("ix_credential_types_program_id"), table_name="credential_types")
    op.drop_table("credential_types")
    op.drop_index(op.f("ix_centers_state"), table_name="centers")
    op.drop_index(op.f("ix_centers_organization_id"), table_name="centers")
    op.drop_index(
        "ix_centers_name_trgm",
        table_name="centers",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_centers_earth",
        table_name="centers",
        postgresql_using="gist",
        postgresql_where=sa.text("latitude IS NOT NULL"),
    )
    op.drop_table("centers")
    op.drop_table("candidates")
    op.drop_table("signing_keys")
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
    op.drop_table("programs")
    op.drop_table("organizations")
    op.drop_table("instructors")
    op.drop_table("catalog_versions")
