"""The root types: wires each field to its resolver and permissions, and builds the schema."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from api.audit import WriteAuditTrail, audit_mutations
from api.errors import ErrorCodes
from api.limits.cost import field_cost
from api.limits.extensions import limit_extensions
from api.limits.rules import CachedParser
from api.permissions import authenticated, reads_candidates, requires
from api.resolvers import catalog, clients, node, viewer
from api.resolvers import catalog_versions as catalog_admin
from api.resolvers.events import change_feed as events
from api.resolvers.events import verifiable, webhooks
from api.resolvers.imports import one_roster, result_imports
from api.resolvers.insights import cohorts, diagnostics, stats
from api.resolvers.network import center_admin, centers
from api.resolvers.registry import audit_trail, candidates, consent, credentials, results
from api.schema.catalog import CredentialType, Module, Program
from api.schema.catalog_versions import CatalogDiff, CatalogVersion, PublishCatalogVersionPayload
from api.schema.events.change_feed import ChangeConnection
from api.schema.events.verifiable import VerifiableCredentialVerification
from api.schema.events.webhooks import (
    CreateWebhookPayload,
    RedeliverWebhookPayload,
    Webhook,
    WebhookPayload,
)
from api.schema.execution import AcyclicExecutionContext, RememberingNameConverter
from api.schema.imports.one_roster import OneRosterMapping, SetOneRosterMappingPayload
from api.schema.imports.result_imports import ResultImport, ResultImportConnection
from api.schema.insights.cohorts import Cohort, CohortPayload, DeleteCohortPayload
from api.schema.insights.diagnostics import DiagnosticReport
from api.schema.insights.stats import RegistryStats
from api.schema.network.center_admin import (
    CenterAuthorizationPayload,
    CenterPayload,
    RegisterInstructorPayload,
    RegisterProctorPayload,
)
from api.schema.network.centers import Center, CenterConnection
from api.schema.network.instructors import Instructor
from api.schema.node import Node
from api.schema.organization import (
    CreateClientPayload,
    DisableClientPayload,
    Organization,
    RotateClientSecretPayload,
    Viewer,
)
from api.schema.registry.audit import AuditEventConnection
from api.schema.registry.inputs import (
    AllowCredentialReissuePayload,
    CreateShareCodePayload,
    CredentialPayload,
    MergeCandidatesPayload,
    PostResultsPayload,
    RedeemShareCodePayload,
    RegisterCandidatePayload,
    WithdrawConsentPayload,
)
from api.schema.registry.records import AssessmentResult, Candidate, CandidateConnection, Credential
from api.schema.registry.verification import CredentialVerification
from api.schema.scalars import SCALAR_OVERRIDES
from api.settings import Settings
from auth.scopes import Scope
from db.insights.cohorts import MAX_COHORTS


@strawberry.type
class Query:
    node: Node | None = strawberry.field(
        resolver=node.node, description="Fetches an object by its global ID."
    )
    viewer: Viewer = strawberry.field(
        resolver=viewer.viewer,
        extensions=authenticated(),
        description="The caller: client, organization and scopes. Any valid token.",
    )
    programs: list[Program] = strawberry.field(
        resolver=catalog.programs, description="Certification programs. Public."
    )
    modules: list[Module] = strawberry.field(
        resolver=catalog.modules,
        description="Assessed modules, as the catalog stands today. Public.",
    )
    credential_types: list[CredentialType] = strawberry.field(
        resolver=catalog.credential_types, description="Credentials the registry issues. Public."
    )
    catalog_versions: list[CatalogVersion] = strawberry.field(
        resolver=catalog_admin.catalog_versions,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Every published catalog version, the earliest in force first: effective date, "
            "who published it and when, which modules are assessable. Needs registry:admin."
        ),
    )
    catalog_version: CatalogVersion | None = strawberry.field(
        resolver=catalog_admin.catalog_version,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="A catalog version by label, with its full content. Needs registry:admin.",
    )
    catalog_diff: CatalogDiff | None = strawberry.field(
        resolver=catalog_admin.catalog_diff,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Every value that differs between two catalog versions; null when either label is "
            "not a published version. Needs registry:admin."
        ),
    )
    centers: CenterConnection = strawberry.field(
        resolver=centers.centers,
        description=(
            "Centers authorized today within a radius of a point or US ZIP code, nearest "
            "first. Public."
        ),
    )

    candidates: CandidateConnection = strawberry.field(
        resolver=candidates.candidates,
        extensions=reads_candidates(),
        description=(
            "Candidates you may see: a school its own, an employer those who shared their "
            "record with it (diagnostics:read), staff all. Needs candidates:read."
        ),
    )
    changes: ChangeConnection = strawberry.field(
        resolver=events.changes,
        extensions=authenticated(),
        description=(
            "Every state change you may see, oldest first, resumable from any cursor: a school "
            "its candidates' (candidates:read), an employer those of candidates who consented "
            "to it (diagnostics:read) and status changes of credentials it verified "
            "(credentials:verify), staff all."
        ),
    )
    verify_verifiable_credential: VerifiableCredentialVerification = strawberry.field(
        resolver=verifiable.verify_verifiable_credential,
        description=(
            "Checks a VC-JWT this registry issued (OpenBadgeCredential or ClrCredential): "
            "key, signature, issuer, validity period, revocation and suspension. Public."
        ),
    )
    webhooks: list[Webhook] = strawberry.field(
        resolver=webhooks.webhooks,
        extensions=authenticated(),
        description=(
            "Your organization's webhooks, disabled ones included (staff: every "
            "organization's), oldest first: the first `first` (1 to 100), priced as that many."
        ),
    )
    verify_credential: CredentialVerification = strawberry.field(
        resolver=credentials.verify,
        extensions=requires(Scope.CREDENTIALS_VERIFY),
        description=(
            "Is this person currently certified? Needs the verification code printed on the "
            "certificate and the holder's family name. Needs credentials:verify."
        ),
    )
    # --- the diagnostic tool and dashboards (issue 6) ---
    diagnostic: DiagnosticReport = strawberry.field(
        resolver=diagnostics.diagnostic,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        # 1, plus 1 per candidate, plus the per-candidate lists once per candidate (README).
        metadata=field_cost(size_from="candidateIds", per_item=1, selection_once=True),
        description=(
            "Gaps and a costed training plan for 1 to 1,000 candidates who shared their record "
            "with you (staff: anyone), over the modules the program's certification requires "
            "(programCode CPT or CLT; includeOptionalModules adds Green Production to CPT), or "
            "one module against its own certificate (programCode GREEN). Logged for each "
            "candidate. Needs diagnostics:read."
        ),
    )
    cohorts: list[Cohort] = strawberry.field(
        resolver=cohorts.cohorts,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        # Priced for the most an organization may keep: what is asked of each, that many times.
        metadata=field_cost(size=MAX_COHORTS),
        description=(
            f"Your organization's saved cohorts (at most {MAX_COHORTS}), by name. Priced as "
            f"{MAX_COHORTS} cohorts: ask for one cohort's members or diagnostic through "
            "node(id:). Needs diagnostics:read."
        ),
    )
    result_import: ResultImport | None = strawberry.field(
        resolver=result_imports.result_import,
        extensions=authenticated(),
        description=(
            "An import of yours (POST /imports/results): its state and counts. Needs "
            "results:write or results:read."
        ),
    )
    result_imports: ResultImportConnection = strawberry.field(
        resolver=result_imports.result_imports,
        extensions=authenticated(),
        description=(
            "Your organization's imports (staff: every one), newest first. Needs results:write "
            "or results:read."
        ),
    )
    one_roster_mappings: list[OneRosterMapping] = strawberry.field(
        resolver=one_roster.one_roster_mappings,
        extensions=requires(Scope.RESULTS_WRITE),
        description=(
            "How your OneRoster bundles read (POST /imports/oneroster): the mappings you keep, "
            "then the catalog's course alignments you have not overridden (suggested). Needs "
            "results:write."
        ),
    )
    stats: RegistryStats = strawberry.field(
        resolver=stats.stats,
        extensions=requires(Scope.STATS_READ),
        description="Registry dashboards for a period of UTC days. Needs stats:read.",
    )
    audit_trail: AuditEventConnection = strawberry.field(
        resolver=audit_trail.audit_trail,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Every mutation and every disclosure of candidate data, newest first: who, through "
            "which client, what, when, in which request. Needs registry:admin."
        ),
    )


@strawberry.type
class Mutation:
    register_candidate: RegisterCandidatePayload = strawberry.mutation(
        resolver=candidates.register_candidate,
        extensions=requires(Scope.CANDIDATES_WRITE),
        description="Registers a candidate; the same externalId returns the same candidate.",
    )
    post_results: PostResultsPayload = strawberry.mutation(
        resolver=results.post_results_mutation,
        extensions=requires(Scope.RESULTS_WRITE),
        # 10, plus 1 per result, plus the payload's selection once per result (README).
        metadata=field_cost(size_from="input.results", per_item=1),
        description=(
            "Posts 1 to 500 assessment results, each judged and committed on its own. "
            "Re-posting an identical item answers UNCHANGED. Needs results:write."
        ),
    )
    create_share_code: CreateShareCodePayload = strawberry.mutation(
        resolver=consent.create_share_code_mutation,
        extensions=requires(Scope.CANDIDATES_WRITE),
        description="A single-use code the candidate gives an employer. Needs candidates:write.",
    )
    redeem_share_code: RedeemShareCodePayload = strawberry.mutation(
        resolver=consent.redeem_share_code_mutation,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        description=(
            "An employer redeems a share code with the candidate's family name and a purpose, "
            "and gains consent to see the record. Needs diagnostics:read."
        ),
    )
    withdraw_consent: WithdrawConsentPayload = strawberry.mutation(
        resolver=consent.withdraw_consent,
        extensions=requires(Scope.CANDIDATES_WRITE),
        description="Withdraws an employer's consent grant, for the candidate.",
    )
    suspend_credential: CredentialPayload = strawberry.mutation(
        resolver=credentials.suspend_credential,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="Suspends an active credential (reversible). Needs registry:admin.",
    )
    reinstate_credential: CredentialPayload = strawberry.mutation(
        resolver=credentials.reinstate_credential,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="Reinstates a suspended credential. Needs registry:admin.",
    )
    revoke_credential: CredentialPayload = strawberry.mutation(
        resolver=credentials.revoke_credential,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Revokes a credential for good: no credential of its type is issued to the "
            "candidate again, by any result or merge, until staff allow it "
            "(allowCredentialReissue). Needs registry:admin."
        ),
    )
    allow_credential_reissue: AllowCredentialReissuePayload = strawberry.mutation(
        resolver=credentials.allow_credential_reissue,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Allows a new credential of a type whose revocation blocks it for this candidate; "
            "recorded with the reason in the revoked credential's history. The new one dates "
            "from now at the earliest. Needs registry:admin."
        ),
    )
    set_one_roster_mapping: SetOneRosterMappingPayload = strawberry.mutation(
        resolver=one_roster.set_one_roster_mapping,
        extensions=requires(Scope.RESULTS_WRITE),
        description=(
            "Keeps a mapping for your OneRoster bundles: a line item (sourcedId or titlePattern) "
            "or course (sourcedId or courseCode) to a module, an org to one of your centers. "
            "Bundles uploaded afterwards use it. Needs results:write."
        ),
    )
    create_cohort: CohortPayload = strawberry.mutation(
        resolver=cohorts.create_cohort_mutation,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        description="Saves a named cohort of candidates who shared their record with you.",
    )
    add_cohort_members: CohortPayload = strawberry.mutation(
        resolver=cohorts.add_cohort_members,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        description="Adds candidates who shared their record with you to your cohort.",
    )
    remove_cohort_members: CohortPayload = strawberry.mutation(
        resolver=cohorts.remove_cohort_members,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        description="Removes candidates from your cohort.",
    )
    delete_cohort: DeleteCohortPayload = strawberry.mutation(
        resolver=cohorts.delete_cohort_mutation,
        extensions=requires(Scope.DIAGNOSTICS_READ),
        description="Deletes your cohort (the candidates' records are untouched).",
    )
    merge_candidates: MergeCandidatesPayload = strawberry.mutation(
        resolver=candidates.merge_candidates,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Folds a duplicate record into another, keeping every result and credential. "
            "Needs registry:admin."
        ),
    )
    authorize_center: CenterPayload = strawberry.mutation(
        resolver=center_admin.authorize_center,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Registers a center, or updates it by siteCode, and authorizes it for programs over "
            "a period; the same period again changes nothing, the same start with a later end "
            "renews. Needs registry:admin."
        ),
    )
    suspend_center_authorization: CenterAuthorizationPayload = strawberry.mutation(
        resolver=center_admin.suspend_center_authorization,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Suspends a center's authorization for a program (reversible): results taken from "
            "that day on are refused. Needs registry:admin."
        ),
    )
    reinstate_center_authorization: CenterAuthorizationPayload = strawberry.mutation(
        resolver=center_admin.reinstate_center_authorization,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="Reinstates a suspended center authorization. Needs registry:admin.",
    )
    withdraw_center_authorization: CenterAuthorizationPayload = strawberry.mutation(
        resolver=center_admin.withdraw_center_authorization,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Withdraws a center's authorization for a program for good; a new one needs a new "
            "period. Needs registry:admin."
        ),
    )
    register_instructor: RegisterInstructorPayload = strawberry.mutation(
        resolver=center_admin.register_instructor,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Registers an instructor (or updates one, by email) with module grants and centers. "
            "Needs registry:admin."
        ),
    )
    register_proctor: RegisterProctorPayload = strawberry.mutation(
        resolver=center_admin.register_proctor,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Registers a proctor or site coordinator at a center; an instructor cannot be one "
            "(PROCTOR_NOT_ALLOWED). Needs registry:admin."
        ),
    )
    create_webhook: CreateWebhookPayload = strawberry.mutation(
        resolver=webhooks.create_webhook_mutation,
        extensions=authenticated(),
        description=(
            "Registers an endpoint for the changes you may read (as the change feed); the "
            "signing secret is shown once. Receives changes from now on."
        ),
    )
    disable_webhook: WebhookPayload = strawberry.mutation(
        resolver=webhooks.disable_webhook_mutation,
        extensions=authenticated(),
        description="Stops deliveries to an endpoint for good (staff or the owner).",
    )
    redeliver_webhook_delivery: RedeliverWebhookPayload = strawberry.mutation(
        resolver=webhooks.redeliver_mutation,
        extensions=authenticated(),
        description="Queues a delivery again, e.g. after it FAILED (staff or the owner).",
    )
    publish_catalog_version: PublishCatalogVersionPayload = strawberry.mutation(
        resolver=catalog_admin.publish_catalog_version,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Publishes a catalog version from the document mssc catalog load takes (TOML, or its "
            "JSON equivalent), with the same rules and messages. Publishing the same document "
            "again changes nothing (created: false). In force in this process at once and in "
            "every other within MSSC_CATALOG_REFRESH_SECONDS. Needs registry:admin."
        ),
    )
    create_client: CreateClientPayload = strawberry.mutation(
        resolver=clients.create_client,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=("Creates an OAuth client, and its organization if new. Needs registry:admin."),
    )
    rotate_client_secret: RotateClientSecretPayload = strawberry.mutation(
        resolver=clients.rotate_client_secret,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="Replaces a client's secret. Needs registry:admin.",
    )
    disable_client: DisableClientPayload = strawberry.mutation(
        resolver=clients.disable_client,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Disables a client for good; its outstanding tokens stop working. Needs registry:admin."
        ),
    )


# Every mutation is audited, including the refused ones (api/audit.py).
audit_mutations(Mutation)

ALL_TYPES: list[type] = [
    Module,
    Organization,
    Center,
    Instructor,
    Candidate,
    AssessmentResult,
    Credential,
    Cohort,
]


class _Schema(strawberry.Schema):
    def process_errors(self, errors: object, execution_context: object = None) -> None:
        # ErrorCodes logs the unexpected errors once, with the request id; client errors
        # (bad queries) are not the operator's problem and stay out of the error log.
        return


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    # Factories, not instances: an extension holds per-request state. The parser and
    # validation caches live at module level, so they still outlast each request (the
    # validation, shape limits first, comes with the limits).
    return [
        ErrorCodes,
        WriteAuditTrail,
        lambda: CachedParser(maxsize=1024),
        *limit_extensions(settings),
    ]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return _Schema(
        query=Query,
        mutation=Mutation,
        types=ALL_TYPES,
        extensions=schema_extensions(settings),
        config=StrawberryConfig(auto_camel_case=True, name_converter=RememberingNameConverter()),
        execution_context_class=AcyclicExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )
