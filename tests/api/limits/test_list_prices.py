"""Every list in the schema is priced for the most it can return.

A list field multiplies the cost of what is asked of each item by its size. The calculator
knows that size only when the field says it: a page argument (``first``, or ``last``), a
declared ``size``/``size_from``, or ``one_per_item`` inside a report sized by its input. A
list that says none of these is priced as one item, and a caller who can make it long gets
its work for the price of one (``webhooks`` was priced 303 for 10,000 deliveries).

The lists below say none of these on purpose; each says why its length is not the caller's
to grow. A new list field fails this test until it declares its size or joins this table.
"""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
    is_leaf_type,
)

from api.limits.cost import PAGE_ARGUMENTS, _declared_cost
from api.schema.root import build_schema

CATALOG = "reference data: the size of the catalog in force, which staff publish"
PAYLOAD = "a mutation's result: at most the mutation's input, which the mutation is priced by"
BOUNDED_BY_RULES = "fixed by the domain's rules, a handful at most"
STAFF_ONLY = "grows only by staff actions on one record"

UNSIZED_ON_PURPOSE: dict[str, str] = {
    # The catalog.
    "Query.programs": CATALOG,
    "Query.modules": CATALOG,
    "Query.credentialTypes": CATALOG,
    "Query.catalogVersions": CATALOG,
    "CatalogVersion.programs": CATALOG,
    "CatalogVersion.modules": CATALOG,
    "CatalogVersion.credentialTypes": CATALOG,
    "CatalogVersion.courses": CATALOG,
    "CatalogDiff.changes": CATALOG,
    "Center.programs": CATALOG,
    "CredentialType.requiredModules": CATALOG,
    "CredentialType.requirements": CATALOG,
    "Module.keyWorkActivities": CATALOG,
    "Module.requiredFor": CATALOG,
    "Instructor.modules": CATALOG,
    "AssessmentResult.activityScores": CATALOG,
    "CandidateModuleStatus.gapActivities": CATALOG,
    "CandidateDiagnostic.modules": CATALOG,
    "DiagnosticReport.modules": CATALOG,
    "ModuleGap.activities": CATALOG,
    "TrainingPlan.items": CATALOG,
    "RegistryStats.byModule": CATALOG,
    # Mutation payloads.
    "AllowCredentialReissuePayload.credentialsIssued": PAYLOAD,
    "MergeCandidatesPayload.credentialsIssued": PAYLOAD,
    "ResultOutcome.credentialsIssued": BOUNDED_BY_RULES,
    "PostResultsPayload.outcomes": PAYLOAD,
    "RegisterInstructorPayload.moduleGrants": PAYLOAD,
    "RegisterInstructorPayload.centers": PAYLOAD,
    # Staff-grown histories of one record.
    "Credential.history": STAFF_ONLY,
    "CenterAuthorization.history": STAFF_ONLY,
    "Center.authorizations": STAFF_ONLY,
    # Aggregates whose keys are fixed sets.
    "RegistryStats.byState": "one row per US state or territory",
    "RegistryStats.byMonth": "one row per month since the registry opened",
}

# Known lists that callers can grow and that are still priced as one item: issue #14 B6,
# left for a later change (see the branch report). Shrinks, never grows.
NOT_YET_SIZED: dict[str, str] = {
    "Candidate.consentGrants": "one per employer that redeemed a share code",
    "Center.instructors": "a center's instructors, registered by its school",
    "Center.proctors": "a center's proctors, registered by its school",
    "TrainingCenter.instructors": "a center's instructors, registered by its school",
    "Query.oneRosterMappings": "a school's mappings, one per setOneRosterMapping",
}


def _is_list(output: GraphQLOutputType) -> bool:
    while isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


def _declares_its_size(field: GraphQLField) -> bool:
    declared = _declared_cost(field)
    return (
        any(argument in field.args for argument in PAGE_ARGUMENTS)
        or declared.size is not None
        or declared.size_from is not None
        or declared.one_per_item
    )


def _unsized_lists() -> set[str]:
    schema = build_schema()._schema
    found = set()
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            if not _is_list(field.type) or _declares_its_size(field):
                continue
            item = get_named_type(field.type)
            # A list of scalars has no selection to multiply; userErrors name the input.
            if is_leaf_type(item) or item.name == "UserError":
                continue
            # A connection's edges are sized by the connection's first.
            if type_name.endswith("Connection") and field_name == "edges":
                continue
            found.add(f"{type_name}.{field_name}")
    return found


def test_every_list_declares_its_size_or_says_why_not() -> None:
    unsized = _unsized_lists()
    assert unsized - UNSIZED_ON_PURPOSE.keys() - NOT_YET_SIZED.keys() == set()


def test_the_tables_name_only_lists_that_exist_unsized() -> None:
    unsized = _unsized_lists()
    assert UNSIZED_ON_PURPOSE.keys() - unsized == set()
    assert NOT_YET_SIZED.keys() - unsized == set()


def test_the_lists_callers_grew_are_sized() -> None:
    schema = build_schema()._schema
    for type_name, field_name in [
        ("Query", "webhooks"),
        ("Candidate", "disclosures"),
        ("Candidate", "credentials"),
        ("Transcript", "entries"),
    ]:
        named = schema.type_map[type_name]
        assert isinstance(named, GraphQLObjectType)
        assert _declares_its_size(named.fields[field_name]), f"{type_name}.{field_name}"
