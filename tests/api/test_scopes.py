"""Every protected field refuses a caller without a token (UNAUTHENTICATED) and a caller whose
token has every scope but the one the field needs (FORBIDDEN).

Add each new protected field to ``PROTECTED``: the test then covers it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth.scopes import ALL_SCOPES, Scope
from tests.support.auth import MakeCaller, fetch_token
from tests.support.graphql import GraphQLClient, without_cost
from tests.support.schools import SchoolClient, item


class Field:
    def __init__(
        self,
        name: str,
        operation: str,
        scope: Scope | None,
        column: int,
        *,
        alone_error: str | None = None,
        nullable: bool = False,
    ) -> None:
        self.name = name
        # A nullable field's refusal leaves it null in the data; a non-null one nulls the data.
        self.nullable = nullable
        self.operation = operation
        self.scope = scope
        self.column = column
        # The error code the operation answers once the scope check passed, for fields that
        # have no valid call on an empty registry (``None``: it must answer without errors).
        self.alone_error = alone_error

    def __repr__(self) -> str:
        return self.name


PROTECTED = [
    Field("viewer", "{ viewer { clientId } }", None, 3),
    # results:write or results:read (resultImport too): tests/api/imports/test_import_scopes.py
    Field("resultImports", "{ resultImports { totalCount } }", None, 3),
    Field(
        "createClient",
        'mutation { createClient(input: {organizationName: "X", organizationKind: "SCHOOL",'
        ' scopes: ["candidates:read"]}) { clientSecret } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "rotateClientSecret",
        'mutation { rotateClientSecret(input: {clientId: "x"}) { clientSecret } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "disableClient",
        'mutation { disableClient(input: {clientId: "x"}) { client { clientId } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field("candidates", "{ candidates { totalCount } }", Scope.CANDIDATES_READ, 3),
    Field(
        "auditTrail",
        "{ auditTrail(first: 1) { edges { node { action } } } }",
        Scope.REGISTRY_ADMIN,
        3,
    ),
    Field("catalogVersions", "{ catalogVersions { label } }", Scope.REGISTRY_ADMIN, 3),
    Field(
        "catalogVersion",
        '{ catalogVersion(label: "2017") { label } }',
        Scope.REGISTRY_ADMIN,
        3,
        nullable=True,
    ),
    Field(
        "catalogDiff",
        '{ catalogDiff(from: "2017", to: "2017") { changes { path } } }',
        Scope.REGISTRY_ADMIN,
        3,
        nullable=True,
    ),
    Field(
        "publishCatalogVersion",
        'mutation { publishCatalogVersion(input: {document: "x"}) { userErrors { code } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "verifyCredential",
        '{ verifyCredential(verificationCode: "x", familyName: "y") { valid } }',
        Scope.CREDENTIALS_VERIFY,
        3,
    ),
    Field(
        "registerCandidate",
        'mutation { registerCandidate(input: {externalId: "x", givenName: "A",'
        ' familyName: "B"}) { userErrors { code } } }',
        Scope.CANDIDATES_WRITE,
        12,
    ),
    Field(
        "postResults",
        "mutation { postResults(input: {results: []}) { userErrors { code } } }",
        Scope.RESULTS_WRITE,
        12,
    ),
    Field(
        "createShareCode",
        'mutation { createShareCode(input: {candidateId: "x"}) { code } }',
        Scope.CANDIDATES_WRITE,
        12,
    ),
    Field(
        "redeemShareCode",
        'mutation { redeemShareCode(input: {code: "x", familyName: "y", purpose: "z"})'
        " { userErrors { code } } }",
        Scope.DIAGNOSTICS_READ,
        12,
    ),
    Field(
        "withdrawConsent",
        'mutation { withdrawConsent(input: {consentGrantId: "x", reason: "r"}) { withdrawn } }',
        Scope.CANDIDATES_WRITE,
        12,
    ),
    *(
        Field(
            name,
            f'mutation {{ {name}(input: {{credentialId: "x", reason: "r"}})'
            " { userErrors { code } } }",
            Scope.REGISTRY_ADMIN,
            12,
        )
        for name in ("suspendCredential", "reinstateCredential", "revokeCredential")
    ),
    Field(
        "allowCredentialReissue",
        'mutation { allowCredentialReissue(input: {candidateId: "x", credentialTypeCode: "CPT",'
        ' reason: "r"}) { userErrors { code } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "authorizeCenter",
        'mutation { authorizeCenter(input: {siteCode: "x", name: "n", kind: "OTHER",'
        ' programCodes: [], authorizedFrom: "2026-01-01"}) { userErrors { code } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    *(
        Field(
            name,
            f'mutation {{ {name}(input: {{siteCode: "x", programCode: "CPT", reason: "r"}})'
            " { userErrors { code } } }",
            Scope.REGISTRY_ADMIN,
            12,
        )
        for name in (
            "suspendCenterAuthorization",
            "reinstateCenterAuthorization",
            "withdrawCenterAuthorization",
        )
    ),
    Field(
        "registerInstructor",
        'mutation { registerInstructor(input: {givenName: "A", familyName: "B", email: "x"})'
        " { userErrors { code } } }",
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "registerProctor",
        'mutation { registerProctor(input: {centerSiteCode: "x", givenName: "A",'
        ' familyName: "B", email: "a@b.example"}) { userErrors { code } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "mergeCandidates",
        'mutation { mergeCandidates(input: {survivingCandidateId: "x", mergedCandidateId: "y",'
        ' reason: "r"}) { userErrors { code } } }',
        Scope.REGISTRY_ADMIN,
        12,
    ),
    Field(
        "diagnostic",
        "{ diagnostic(candidateIds: []) { candidates { modules { status } } } }",
        Scope.DIAGNOSTICS_READ,
        3,
        alone_error="BAD_USER_INPUT",
    ),
    Field("cohorts", "{ cohorts { name } }", Scope.DIAGNOSTICS_READ, 3),
    Field(
        "createCohort",
        'mutation { createCohort(input: {name: "x", candidateIds: []}) { userErrors { code } } }',
        Scope.DIAGNOSTICS_READ,
        12,
    ),
    *(
        Field(
            name,
            f'mutation {{ {name}(input: {{cohortId: "x", candidateIds: []}})'
            " { userErrors { code } } }",
            Scope.DIAGNOSTICS_READ,
            12,
        )
        for name in ("addCohortMembers", "removeCohortMembers")
    ),
    Field(
        "deleteCohort",
        'mutation { deleteCohort(input: {cohortId: "x"}) { deleted } }',
        Scope.DIAGNOSTICS_READ,
        12,
    ),
    Field(
        "stats",
        "{ stats { assessmentsGiven passRate visionProgress { percent } byMonth { month } } }",
        Scope.STATS_READ,
        3,
    ),
]


def _refusal(field: Field, code: str, message: str, **extensions: Any) -> dict[str, Any]:
    return {
        "data": {field.name: None} if field.nullable else None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": field.column}],
                "path": [field.name],
                "extensions": {"code": code, **extensions},
            }
        ],
    }


@pytest.mark.parametrize("field", PROTECTED, ids=repr)
async def test_without_a_token_a_protected_field_is_unauthenticated(
    graphql: GraphQLClient, field: Field
) -> None:
    assert await graphql(field.operation) == _refusal(
        field, "UNAUTHENTICATED", "An access token is required"
    )


@pytest.mark.parametrize("field", [f for f in PROTECTED if f.scope is not None], ids=repr)
async def test_every_scope_but_the_needed_one_is_forbidden(
    graphql: GraphQLClient, make_caller: MakeCaller, field: Field
) -> None:
    assert field.scope is not None
    caller = await make_caller("STAFF", [s for s in ALL_SCOPES if s != field.scope])

    assert await graphql.as_token(caller.token)(field.operation) == _refusal(
        field,
        "FORBIDDEN",
        f"This field needs the scope {field.scope.value}",
        scope=field.scope.value,
    )


@pytest.mark.parametrize("field", [f for f in PROTECTED if f.scope is not None], ids=repr)
async def test_the_needed_scope_alone_is_enough(
    graphql: GraphQLClient, make_caller: MakeCaller, field: Field
) -> None:
    assert field.scope is not None
    caller = await make_caller("STAFF", [field.scope])

    body = await graphql.as_token(caller.token)(field.operation)

    if field.alone_error is None:
        assert "errors" not in body, body
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [field.alone_error]


async def test_a_token_narrowed_by_scope_loses_the_rest(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    narrowed = (
        await fetch_token(http, staff.client_id, staff.client_secret, scope="stats:read")
    ).json()["access_token"]
    field = PROTECTED[3]

    assert await graphql.as_token(narrowed)(field.operation) == _refusal(
        field,
        "FORBIDDEN",
        "This field needs the scope registry:admin",
        scope="registry:admin",
    )


async def test_results_read_reads_a_result_but_not_the_person(
    http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-1")
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    result_id = posted["outcomes"][0]["result"]["id"]
    caller = school.caller

    async def read_as(scope: str, selection: str) -> dict[str, Any]:
        token = (
            await fetch_token(http, caller.client_id, caller.client_secret, scope=scope)
        ).json()["access_token"]
        response = await school.api.as_token(token).post(
            f"query($id: ID!) {{ node(id: $id) {{ ... on AssessmentResult {{ {selection} }} }} }}",
            {"id": result_id},
        )
        return without_cost(response.json())

    assert await read_as("results:read", "passed module { code }") == {
        "data": {"node": {"passed": True, "module": {"code": "SAFETY"}}}
    }
    person = await read_as("results:read", "passed candidate { familyName }")
    assert person["data"] == {"node": None}
    assert [(e["path"], e["extensions"]) for e in person["errors"]] == [
        (["node", "candidate"], {"code": "FORBIDDEN", "scope": "candidates:read"})
    ]
    # The contract lets candidates:read read a candidate's results, and so a result.
    assert (await read_as("candidates:read", "passed candidate { familyName }"))["data"] == {
        "node": {"passed": True, "candidate": {"familyName": "Rivera"}}
    }
    refused = await read_as("results:write", "passed")
    assert [e["extensions"] for e in refused["errors"]] == [
        {"code": "FORBIDDEN", "scope": "results:read"}
    ]
