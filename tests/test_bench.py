"""The benchmark suite: ``python -m bench`` end to end on the smallest sizes, and the bulk
generator's registry read, re-posted and verified through the API.

Timings are never asserted.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from bench.__main__ import BENCHMARKS
from bench.generate import external_id, generate_registry
from db import models
from db.registry.codes import normalize_code
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(
    "name", [*BENCHMARKS, "verification_profile", "stats", "events", "export_cpu"]
)
def test_every_benchmark_imports(name: str) -> None:
    # The runner only reports a benchmark that fails to start; an import error is caught here.
    assert callable(importlib.import_module(f"bench.{name}").main)


def test_the_runner_prints_one_table_of_the_figures_a_benchmark_measured(server_url: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MSSC_", "DATABASE_"))}
    # A fresh database on the test server, dropped afterwards (bench/database.py).
    environment["DATABASE_URL"] = server_url
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "locator"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    header, rule, *rows = finished.stdout.splitlines()
    assert header.split() == ["section", "measure", "value", "unit", "target", "met"]
    assert set(rule.replace(" ", "")) == {"-"}
    measures = [row.split("  ")[0:2] for row in rows]
    assert len(rows) >= 10, finished.stdout
    assert all(row.startswith("locator (2,000 centers)") for row in rows), measures
    assert any("page 1, 80 km: median" in row and row.rstrip().endswith("ms") for row in rows)
    # Progress and the benchmark's own table went to stderr, not into the table.
    assert "indexes used" in finished.stderr


async def test_the_generated_registry_is_one_the_api_would_have_written(
    app: Starlette,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    engine: AsyncEngine = app.state.resources.engine
    registry = await generate_registry(engine, candidates=300, activity_scores=True, log=str)
    assert registry.candidates == 300
    assert 4 * 300 < registry.results < 6 * 300
    assert 1.3 * 300 < registry.credentials < 2.1 * 300
    async with sessionmaker() as session:
        [school_name] = await session.scalars(
            select(models.Organization.name).where(models.Organization.kind == "SCHOOL")
        )
        result = (
            await session.scalars(
                select(models.AssessmentResult)
                .where(models.AssessmentResult.passed)
                .order_by(models.AssessmentResult.id)
                .limit(1)
            )
        ).one()
        scores = list(
            await session.scalars(
                select(models.ActivityScore).where(models.ActivityScore.result_id == result.id)
            )
        )
        credential = (
            await session.scalars(
                select(models.Credential).where(models.Credential.issuing_result_id == result.id)
            )
        ).first()
        candidate = await session.get(models.Candidate, result.candidate_id)
    assert credential is not None
    assert candidate is not None
    assert normalize_code(credential.verification_code) == credential.verification_code
    assert normalize_code(candidate.registry_number[3:], group=5) == candidate.registry_number[3:]

    # The school that registered the candidate finds them by its own id, with their record.
    school = graphql.as_token((await make_caller("SCHOOL", org_name=school_name)).token)
    student = external_id(candidate.id)
    found = await school.data(
        "query($id: String!) { candidates(externalId: $id) { edges { node { registryNumber "
        "credentials { verificationCode } results(first: 20) { totalCount } } } } }",
        {"id": student},
    )
    [edge] = found["candidates"]["edges"]
    assert edge["node"]["registryNumber"] == candidate.registry_number
    assert credential.verification_code in {
        c["verificationCode"] for c in edge["node"]["credentials"]
    }
    # Posting the same result again is a faithful retry: the stored digest is the API's own.
    [center] = [s for s in registry.schools if s.center_id == result.center_id]
    retry = await school.data(
        "mutation($input: PostResultsInput!) { postResults(input: $input) { outcomes { "
        "status credentialsIssued { verificationCode } userErrors { code message } } } }",
        {
            "input": {
                "results": [
                    {
                        "externalId": result.external_id,
                        "candidateExternalId": student,
                        "moduleCode": {m.id: m.code for m in await _modules(sessionmaker)}[
                            result.module_id
                        ],
                        "centerSiteCode": center.site_code,
                        "takenAt": result.taken_at.isoformat(),
                        "correctAnswers": result.correct_answers,
                        "activityScores": [
                            {
                                "activityNumber": s.activity_number,
                                "scorePercent": float(s.score_percent),
                            }
                            for s in scores
                        ],
                    }
                ]
            }
        },
    )
    [outcome] = retry["postResults"]["outcomes"]
    assert outcome["status"] == "UNCHANGED", outcome
    # An employer verifies the printed code with the holder's family name.
    employer = graphql.as_token((await make_caller("EMPLOYER")).token)
    verified = await employer.data(
        "query($code: String!, $name: String!) { verifyCredential(verificationCode: $code, "
        "familyName: $name) { valid status } }",
        {"code": credential.verification_code, "name": candidate.family_name.upper()},
    )
    assert verified["verifyCredential"] == {"valid": True, "status": "ACTIVE"}


async def _modules(sessionmaker: async_sessionmaker[AsyncSession]) -> list[models.Module]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(models.Module)))
