"""What the fuzz tests (tests/api/graphql/test_fuzz_*.py) share: their Hypothesis profile, the callers
they send operations as, and the check every answer must pass.

The profile is small and derandomized so that CI runs the same examples every time, in well
under a minute. ``MSSC_FUZZ_EXAMPLES=2000 ./dev test tests/api/graphql/test_fuzz_*.py`` runs more
locally (each test's example count scales with it; ``MSSC_FUZZ_SEED`` varies the examples).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, settings
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.support.apps import production
from tests.support.auth import MakeCaller

SCHEMA_SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()

# Examples per test in CI; the tests ask for a share of it (see ``examples``).
DEFAULT_EXAMPLES = 40
_EXAMPLES = int(os.environ.get("MSSC_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
_SEED = os.environ.get("MSSC_FUZZ_SEED")


def examples(share: float = 1.0) -> settings:
    """Settings for one fuzz test: ``share`` of the configured example count."""
    return settings(
        max_examples=max(1, round(_EXAMPLES * share)),
        deadline=None,
        # Reproducible in CI: the same examples every run, and no example database on disk.
        derandomize=_SEED is None,
        database=None,
        # The explain phase reruns a failure hundreds of times over HTTP; the shrunk example
        # says enough.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        # The HTTP client is a function-scoped fixture on purpose: every example shares it.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        print_blob=True,
    )


def seeded(test: Any) -> Any:
    """Applies ``MSSC_FUZZ_SEED`` when set (otherwise the examples are derandomized)."""
    if _SEED is None:
        return test
    from hypothesis import seed

    return seed(int(_SEED))(test)


# Every top-level error code the public contract names (../shared/api.md, "Errors"), less
# INTERNAL: a masked internal error is exactly the bug the fuzzer hunts.
KNOWN_CODES = frozenset(
    {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "TOO_COMPLEX", "RATE_LIMITED", "NOT_FOUND"}
)

# What must never reach a client: stack traces, driver and ORM names, PostgreSQL's own
# phrasing, suggestions (production strips them), and SQL statements.
# SQL is matched case-sensitively (a client's lower-case words may echo back).
_SQL = re.compile(r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b \w+ SET\b|\bDELETE FROM\b")
_PLAIN_LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|asyncpg|psycopg|syntax error at or near|"
    r"violates [\w ]*constraint|duplicate key value|relation \"",
    re.IGNORECASE,
)
# graphql-core's schema suggestions. Its lower-case syntax hint ("did you mean to use a
# double quote") names nothing in the schema and may stay.
_SUGGESTION = re.compile(r"Did you mean")


@dataclass(frozen=True, slots=True)
class Callers:
    """A bearer token per kind of caller, and None for the anonymous one."""

    staff: str
    school: str

    def headers(self, who: str) -> dict[str, str]:
        token = {"staff": self.staff, "school": self.school}.get(who)
        return {} if token is None else {"authorization": f"Bearer {token}"}


WHO = ("staff", "school", "anonymous")


async def make_callers(make_caller: MakeCaller) -> Callers:
    staff = await make_caller("STAFF")
    school = await make_caller("SCHOOL")
    return Callers(staff=staff.token, school=school.token)


@contextlib.asynccontextmanager
async def production_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app as ``MSSC_ENV=production`` runs it (no suggestions, masked errors, the
    stricter limits) on the test database; tokens from the ``make_caller`` fixture work on
    it, since it shares the signing keys."""
    app: Starlette = create_app(production(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            yield http


def check_answer(response: httpx.Response, *, sent: object) -> dict[str, Any]:
    """The invariants of every answer to anything sent to ``/graphql``; returns the body."""
    where = f"\nsent: {sent!r}\nstatus: {response.status_code}\nbody: {response.text[:2000]}"
    assert response.status_code < 500, where
    assert response.headers.get("x-request-id"), where
    text = response.text
    assert not _PLAIN_LEAKS.search(text), where
    assert not _SUGGESTION.search(text), where
    body = json.loads(text)
    assert isinstance(body, dict), where
    assert set(body) <= {"data", "errors", "extensions"}, where
    assert "data" in body or "errors" in body, where
    if "data" in body:
        assert body["data"] is None or isinstance(body["data"], dict), where
    errors = body.get("errors")
    if errors is not None:
        assert isinstance(errors, list), where
        assert errors, where
        for error in errors:
            assert isinstance(error, dict), where
            assert isinstance(error.get("message"), str), where
            assert not _SQL.search(error["message"]), where
            code = (error.get("extensions") or {}).get("code")
            assert code in KNOWN_CODES, where
    if response.status_code >= 400:
        assert errors, where
    return body
