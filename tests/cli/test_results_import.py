"""``mssc results import``: a CSV through the same rules, re-runnable without duplicates."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.failures import CliFailure
from cli.results_import import import_results
from db import models
from tests.support.registry import School, make_school


def _rejected(folder: Path) -> list[dict[str, str]]:
    """The rows of ``term.rejected.csv``, which starts with a byte-order mark for Excel."""
    text = (folder / "term.rejected.csv").read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def add_client(
    sessionmaker: async_sessionmaker[AsyncSession], school: School, scopes: list[str]
) -> str:
    async with sessionmaker.begin() as session:
        session.add(
            models.OAuthClient(
                client_id="sis-import",
                organization_id=school.organization_id,
                secret_hash="unused-here",
                scopes=scopes,
            )
        )
    return "sis-import"


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(
    external_id: str, candidate: str, module: str, percent: str, taken: str = "2026-03-02"
) -> dict[str, str]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": module,
        "centerSiteCode": "OH-001",
        "takenAt": taken,
        "scorePercent": percent,
        "activityScores": "1:80;2:70" if module == "SAFETY" else "",
    }


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    school = await make_school(sessionmaker)
    for n in range(30):
        await school.register(f"S-{n}")
    return school


async def test_import_posts_rejects_and_reruns_without_duplicates(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: School,
    tmp_path: Path,
) -> None:
    client_id = await add_client(sessionmaker, school, ["results:write"])
    rows = [
        row(f"R-{n}-{m}", f"S-{n}", m, "90")
        for n in range(30)
        for m in ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
    ]
    rows.append(row("BAD-1", "S-0", "WELDING", "90"))
    rows.append({**row("BAD-2", "S-1", "SAFETY", "90"), "takenAt": "yesterday"})
    path = write_csv(tmp_path / "term.csv", rows)

    counts = await import_results(engine, path=path, client_id=client_id)
    assert dict(counts) == {"CREATED": 120, "REJECTED": 2}
    reasons = [(r["externalId"], r["code"], r["field"]) for r in _rejected(tmp_path)]
    assert reasons == [("BAD-1", "UNKNOWN_MODULE", "moduleCode"), ("BAD-2", "INVALID", "takenAt")]

    again = await import_results(engine, path=path, client_id=client_id)
    assert dict(again) == {"UNCHANGED": 120, "REJECTED": 2}
    async with sessionmaker() as session:
        results = await session.scalar(select(func.count()).select_from(models.AssessmentResult))
        cpts = await session.scalar(
            select(func.count())
            .select_from(models.Credential)
            .join(models.CredentialType)
            .where(models.CredentialType.code == "CPT")
        )
    assert (results, cpts) == (120, 30)


async def test_import_refuses_a_client_without_results_write(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: School,
    tmp_path: Path,
) -> None:
    client_id = await add_client(sessionmaker, school, ["candidates:read"])
    path = write_csv(tmp_path / "term.csv", [row("R-1", "S-1", "SAFETY", "90")])
    with pytest.raises(CliFailure, match="client sis-import lacks the results:write scope"):
        await import_results(engine, path=path, client_id=client_id)


async def test_import_refuses_a_file_without_the_columns(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: School,
    tmp_path: Path,
) -> None:
    client_id = await add_client(sessionmaker, school, ["results:write"])
    path = tmp_path / "term.csv"
    path.write_text("externalId,moduleCode\nR-1,SAFETY\n")
    with pytest.raises(CliFailure, match="missing column"):
        await import_results(engine, path=path, client_id=client_id)


async def test_import_judges_the_score_as_written(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: School,
    tmp_path: Path,
) -> None:
    client_id = await add_client(sessionmaker, school, ["results:write"])
    rows = [
        row("R-1", "S-1", "SAFETY", "75.995"),
        row("R-2", "S-2", "SAFETY", "76.000"),
        row("R-3", "S-3", "QUALITY", "NaN"),
        {**row("R-4", "S-4", "SAFETY", "80"), "activityScores": "1:75.995;2:NaN"},
    ]
    path = write_csv(tmp_path / "term.csv", rows)
    counts = await import_results(engine, path=path, client_id=client_id)
    assert dict(counts) == {"CREATED": 2, "REJECTED": 2}
    async with sessionmaker() as session:
        stored = {
            row.external_id: (str(row.score_percent), row.passed)
            for row in await session.execute(
                select(
                    models.AssessmentResult.external_id,
                    models.AssessmentResult.score_percent,
                    models.AssessmentResult.passed,
                )
            )
        }
    assert stored == {"R-1": ("75.995", False), "R-2": ("76.000", True)}
    reasons = [(r["externalId"], r["code"], r["field"]) for r in _rejected(tmp_path)]
    assert reasons == [
        ("R-3", "INVALID", "scorePercent"),
        ("R-4", "INVALID", "activityScores"),  # NaN is no number: the column is named
    ]
