"""The staff mutations that run the center network, as GraphQL operations for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from api.schema.node import from_global_id
from tests.support.graphql import GraphQLClient

AUTHORIZATIONS = """
  authorizations {
    program { code name } authorizedFrom authorizedUntil status standing
    history { status effectiveAt reason }
  }"""

CENTER = f"""
  id siteCode name kind partnerSchool city state postalCode country latitude longitude
  programs {{ code }} authorized {AUTHORIZATIONS}"""

AUTHORIZE = f"""
mutation($input: AuthorizeCenterInput!) {{
  authorizeCenter(input: $input) {{
    center {{ {CENTER} }}
    userErrors {{ code field message }}
  }}
}}"""

ACTION = """
mutation($input: CenterAuthorizationActionInput!) {{
  {name}(input: $input) {{
    center {{ siteCode authorized programs {{ code }} }}
    authorization {{
      program {{ code }} authorizedFrom authorizedUntil status standing
      history {{ status effectiveAt reason }}
    }}
    userErrors {{ code field message }}
  }}
}}"""

PROCTOR = "id givenName familyName email role active center { siteCode }"

REGISTER_PROCTOR = f"""
mutation($input: RegisterProctorInput!) {{
  registerProctor(input: $input) {{
    proctor {{ {PROCTOR} }}
    userErrors {{ code field message }}
  }}
}}"""

REGISTER_INSTRUCTOR = """
mutation($input: RegisterInstructorInput!) {
  registerInstructor(input: $input) {
    instructor { id givenName familyName email phone modules { code } }
    moduleGrants { module { code } authorizedFrom authorizedUntil }
    centers { siteCode }
    userErrors { code field message }
  }
}"""


def midnight(day: date) -> str:
    """How the API prints the start of ``day`` (UTC)."""
    return datetime.combine(day, time(), UTC).isoformat()


def center_input(site_code: str = "OH-100", **overrides: Any) -> dict[str, Any]:
    """A US center geocoded from its ZIP, authorized for CPT from 2025-01-01, open-ended."""
    return {
        "siteCode": site_code,
        "name": "Sinclair Advanced Manufacturing Center",
        "kind": "COLLEGE",
        "programCodes": ["CPT"],
        "postalCode": "45402",
        "authorizedFrom": "2025-01-01",
        **overrides,
    }


async def authorize(staff: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    """``authorizeCenter``'s payload."""
    data = await staff.data(AUTHORIZE, {"input": center_input(**overrides)})
    payload: dict[str, Any] = data["authorizeCenter"]
    return payload


async def act(staff: GraphQLClient, name: str, **input: Any) -> dict[str, Any]:
    """The payload of ``suspendCenterAuthorization`` and its siblings."""
    data = await staff.data(ACTION.format(name=name), {"input": input})
    payload: dict[str, Any] = data[name]
    return payload


def without_id(node: dict[str, Any], type_name: str) -> dict[str, Any]:
    """The node without its global ID, after checking the ID names a ``type_name``."""
    rest = dict(node)
    decoded = from_global_id(rest.pop("id"))
    assert decoded is not None
    assert decoded[0] == type_name, decoded
    return rest
