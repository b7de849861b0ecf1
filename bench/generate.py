"""A national-scale registry in minutes: synthetic candidates, results and credentials by COPY.

    python -m bench.generate [--candidates 3000000] [--seed 1] [--json] [--quick]

Run alone, it builds the registry in a fresh database (see ``bench.database``), prints how
long each stage took and drops the database; ``bench.scale`` and ``bench.diagnostic`` call
:func:`generate_registry` on their own databases.

What it writes is what the API would have written for the same history: schools (one per
1,000 candidates) each with a center authorized for CPT; candidates registered by a school
(registry numbers with their check character, ``family_name_key`` folded by ``db.registry.names``,
the school's external id in ``candidate_links``); results posted as ``correctAnswers`` and
judged against the catalog's cut scores, at most three attempts per module fifteen days
apart, with ``content_digest`` computed by ``ResultSubmission.digest`` as a real post would;
a module certificate for each module passed, CPT (valid five years) once the four core
modules are passed, each with its issuance in the status history; 2% of CPT certifications
revoked, and those past their five years EXPIRED as the API's expiry sweep records them.
About five results and 1.7 credentials per candidate, as the 20/20 vision's registry would
hold (3 million people, 15 million results, 5 million credentials).
Not written: change-feed events and disclosures (nothing measured here reads them).

How it is fast: rows are generated in Python a chunk at a time and sent with ``COPY``
(``asyncpg.copy_records_to_table``), one connection per table so that PostgreSQL ingests
one table while Python encodes the next; secondary indexes and unique constraints are
dropped for the load and rebuilt once at the end (then ``VACUUM ANALYZE`` and a
``CHECKPOINT``, so that measurements do not start under the load's write-back), and
foreign-key triggers are off on the
loading connections (``session_replication_role = replica``, which needs a superuser: the
rows are consistent by construction). Ids are assigned here, so rows refer to each other
without a round trip; the identity sequences are moved past them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.database import run_on_fresh_database
from bench.output import Figure, Output
from db import models
from db.catalog.versions import CatalogSnapshot, ModuleSpec, read_snapshot
from db.demo.places import zip_places
from db.platform.bootstrap import prepare_database
from db.platform.bulk import insert_rows
from db.platform.engine import create_engine, create_sessionmaker
from db.registry.assessment_day import assessment_day
from db.registry.codes import (
    ALPHABET,
    CHECK_ALPHABET,
    REGISTRY_NUMBER_LENGTH,
    VERIFICATION_CODE_LENGTH,
)
from db.registry.credentials import EXPIRED_BY, add_years, dated
from db.registry.names import name_key
from db.registry.results import ResultSubmission
from db.registry.scores import Score

CANDIDATES_PER_SCHOOL = 1_000
CHUNK = 20_000  # candidates generated and sent at a time
CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
# How many of the four core modules a candidate has attempted (weights), and the chance that
# one attempt passes: about five results and 1.7 credentials per candidate.
MODULES_ATTEMPTED = {1: 0.3, 2: 0.3, 3: 0.2, 4: 0.2}
PASS_CHANCE = 0.32
GREEN_CHANCE = 0.1
MAX_ATTEMPTS = 3
REVOKED_SHARE = 0.02
HISTORY_YEARS = 10

GIVEN_NAMES = ("Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo")
FAMILY_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "Rodríguez",
    "Martínez", "Hernández", "López", "González", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White", "Harris", "Sánchez",
    "Clark", "Ramírez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "O'Brien", "Müller", "Søndergaard",
)  # fmt: skip

# Tables the load writes, in the order rows refer to each other.
BULK_TABLES = (
    "candidates",
    "candidate_links",
    "assessment_results",
    "activity_scores",
    "credentials",
    "credential_status_changes",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "candidates": (
        "id",
        "registry_number",
        "given_name",
        "family_name",
        "family_name_key",
        "registered_by_organization_id",
    ),
    "candidate_links": ("organization_id", "external_id", "candidate_id"),
    "assessment_results": (
        "id",
        "candidate_id",
        "module_id",
        "center_id",
        "organization_id",
        "external_id",
        "catalog_version_id",
        "taken_at",
        "taken_on",
        "correct_answers",
        "score_percent",
        "passed",
        "attempt_number",
        "content_digest",
    ),
    "activity_scores": ("result_id", "activity_number", "score_percent"),
    "credentials": (
        "id",
        "candidate_id",
        "credential_type_id",
        "verification_code",
        "status",
        "issued_at",
        "expires_at",
        "catalog_version_id",
        "issuing_result_id",
    ),
    "credential_status_changes": ("credential_id", "status", "at", "reason"),
}


@dataclass(frozen=True, slots=True)
class School:
    organization_id: int
    center_id: int
    site_code: str


@dataclass(slots=True)
class Registry:
    """What was generated (ids run from 1 to each count), and how long each stage took."""

    schools: list[School]
    candidates: int = 0
    results: int = 0
    credentials: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --- codes, as db.registry.codes makes them -------------------------------------------------------


def _scrambled(n: int, bits: int) -> int:
    """A bijection on ``bits``-bit numbers: distinct ids give distinct, random-looking codes."""
    return (n * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % (1 << bits)


def _base32(value: int, length: int) -> str:
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _grouped(code: str, size: int) -> str:
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def verification_code(credential_id: int) -> str:
    """A valid code (``db.registry.codes.normalize_code`` accepts it), unique per credential id."""
    value = _scrambled(credential_id, 5 * VERIFICATION_CODE_LENGTH)
    # The check character is the payload's value mod 37 (Crockford).
    return _grouped(_base32(value, VERIFICATION_CODE_LENGTH) + CHECK_ALPHABET[value % 37], 4)


def registry_number(candidate_id: int) -> str:
    value = _scrambled(candidate_id, 5 * REGISTRY_NUMBER_LENGTH)
    payload = _base32(value, REGISTRY_NUMBER_LENGTH) + CHECK_ALPHABET[value % 37]
    return "MS-" + _grouped(payload, 5)


def external_id(candidate_id: int) -> str:
    """The registering school's own id for a candidate."""
    return f"STU-{candidate_id:08d}"


# --- the catalog, as the generator needs it ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Module:
    spec: ModuleSpec
    certificate_id: int
    # For each possible number of correct answers: the score the API computes, and the verdict.
    scores: tuple[tuple[Decimal, bool], ...]
    first_pass: int  # fewest correct answers that pass


def _module(spec: ModuleSpec, snapshot: CatalogSnapshot) -> Module:
    assert spec.question_count is not None
    assert spec.cut_score_percent is not None
    scores = []
    for correct in range(spec.question_count + 1):
        score = Score.of_answers(correct, spec.question_count)
        scores.append((score.stored, score.meets(spec.cut_score_percent)))
    [certificate] = [
        t
        for t in snapshot.credential_types
        if t.kind == "MODULE_CERTIFICATE" and t.required_module_ids == (spec.id,)
    ]
    first_pass = next(c for c, (_, passed) in enumerate(scores) if passed)
    return Module(spec, certificate.id, tuple(scores), first_pass)


# --- rows ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Chunk:
    """The rows of consecutive candidates, by table."""

    rows: dict[str, list[tuple[Any, ...]]]


class RowMaker:
    """Generates the rows of consecutive candidates; ids continue from chunk to chunk."""

    def __init__(
        self,
        snapshot: CatalogSnapshot,
        schools: Sequence[School],
        *,
        seed: int,
        now: datetime,
        activity_scores: bool,
    ) -> None:
        self.rng = random.Random(seed)
        self.schools = schools
        self.now = now
        self.version_id = snapshot.version_id
        self.core = [_module(m, snapshot) for c in CORE if (m := snapshot.module_by_code(c))]
        green = snapshot.module_by_code("GREEN")
        assert green is not None
        self.green = _module(green, snapshot)
        [cpt] = [t for t in snapshot.credential_types if t.code == "CPT"]
        self.cpt = cpt
        self.activity_scores = activity_scores
        self.wait = timedelta(days=snapshot.retake_policy.wait_days)
        self.names = [(name, name_key(name)) for name in FAMILY_NAMES]
        self.next_result = 1
        self.next_credential = 1
        self.counts = dict.fromkeys(BULK_TABLES, 0)

    def chunk(self, first_candidate: int, count: int) -> Chunk:
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in BULK_TABLES}
        for candidate_id in range(first_candidate, first_candidate + count):
            self._candidate(candidate_id, rows)
        for table, table_rows in rows.items():
            self.counts[table] += len(table_rows)
        return Chunk(rows)

    def _candidate(self, candidate_id: int, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        rng = self.rng
        school = self.schools[candidate_id % len(self.schools)]
        family, family_key = rng.choice(self.names)
        rows["candidates"].append(
            (
                candidate_id,
                registry_number(candidate_id),
                rng.choice(GIVEN_NAMES),
                family,
                family_key,
                school.organization_id,
            )
        )
        student = external_id(candidate_id)
        rows["candidate_links"].append((school.organization_id, student, candidate_id))
        attempted = rng.choices(list(MODULES_ATTEMPTED), weights=list(MODULES_ATTEMPTED.values()))
        modules = rng.sample(self.core, attempted[0])
        if rng.random() < GREEN_CHANCE:
            modules.append(self.green)
        day = self.now - timedelta(days=rng.randrange(60, 365 * HISTORY_YEARS))
        day = day.replace(hour=rng.randrange(8, 17), minute=0, second=0, microsecond=0)
        passed_core: list[tuple[datetime, int]] = []
        for module in modules:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                passes = rng.random() < PASS_CHANCE
                result_id = self._result(
                    candidate_id, school, student, module, day, attempt, passes, rows
                )
                if passes:
                    self._credential(
                        candidate_id,
                        module.certificate_id,
                        dated(assessment_day(day)),
                        result_id,
                        None,
                        rows,
                    )
                    if module is not self.green:
                        passed_core.append((day, result_id))
                day += self.wait + timedelta(days=rng.randrange(0, 30))
                if passes:
                    break
        if len(passed_core) == len(CORE):
            taken_at, result_id = max(passed_core)
            earned_at = dated(assessment_day(taken_at))
            assert self.cpt.validity_years is not None
            self._credential(
                candidate_id,
                self.cpt.id,
                earned_at,
                result_id,
                add_years(earned_at, self.cpt.validity_years),
                rows,
                revoked=rng.random() < REVOKED_SHARE,
            )

    def _result(
        self,
        candidate_id: int,
        school: School,
        student: str,
        module: Module,
        taken_at: datetime,
        attempt: int,
        passes: bool,
        rows: dict[str, list[tuple[Any, ...]]],
    ) -> int:
        """A result with a number of correct answers that gives the verdict ``passes``."""
        result_id = self.next_result
        self.next_result += 1
        questions = len(module.scores) - 1
        correct = (
            self.rng.randrange(module.first_pass, questions + 1)
            if passes
            else self.rng.randrange(questions // 3, module.first_pass)
        )
        percent, passed = module.scores[correct]
        label = f"R{result_id}"
        activities = (
            tuple(
                (activity.number, Decimal(self.rng.randrange(3000, 10001)) / 100)
                for activity in module.spec.activities
            )
            if self.activity_scores
            else ()
        )
        digest = ResultSubmission(
            external_id=label,
            module_code=module.spec.code,
            center_site_code=school.site_code,
            taken_at=taken_at,
            candidate_external_id=student,
            correct_answers=correct,
            activity_scores=activities,
        ).digest()
        rows["assessment_results"].append(
            (
                result_id,
                candidate_id,
                module.spec.id,
                school.center_id,
                school.organization_id,
                label,
                self.version_id,
                taken_at,
                assessment_day(taken_at),
                correct,
                percent,
                passed,
                attempt,
                digest,
            )
        )
        rows["activity_scores"].extend((result_id, number, score) for number, score in activities)
        return result_id

    def _credential(
        self,
        candidate_id: int,
        type_id: int,
        issued_at: datetime,
        result_id: int,
        expires_at: datetime | None,
        rows: dict[str, list[tuple[Any, ...]]],
        *,
        revoked: bool = False,
    ) -> None:
        credential_id = self.next_credential
        self.next_credential += 1
        # As the API's expiry sweep (db.registry.credentials.expire_due_credentials) would have left
        # it.
        expired = not revoked and expires_at is not None and expires_at <= self.now
        rows["credentials"].append(
            (
                credential_id,
                candidate_id,
                type_id,
                verification_code(credential_id),
                "REVOKED" if revoked else "EXPIRED" if expired else "ACTIVE",
                issued_at,
                expires_at,
                self.version_id,
                result_id,
            )
        )
        history = rows["credential_status_changes"]
        history.append((credential_id, "ACTIVE", issued_at, f"result R{result_id}"))
        if revoked:
            history.append((credential_id, "REVOKED", issued_at + timedelta(days=90), "bench"))
        elif expired:
            reason = f"{EXPIRED_BY}: its validity ended on {expires_at.astimezone(UTC).date()}"
            history.append((credential_id, "EXPIRED", expires_at, reason))


# --- loading -------------------------------------------------------------------------------


async def _add_schools(engine: AsyncEngine, count: int, rng: random.Random) -> list[School]:
    """``count`` schools, each operating one center authorized for CPT since 2010."""
    spots = [spot for spots in zip_places().values() for spot in spots]
    chosen = rng.choices(spots, k=count)
    async with create_sessionmaker(engine).begin() as session:
        await insert_rows(
            session,
            "organizations",
            {"name": "text", "kind": "varchar"},
            [(f"Bench School {n:05d}", "SCHOOL") for n in range(count)],
        )
        organizations = dict(
            (
                await session.execute(
                    select(models.Organization.name, models.Organization.id).where(
                        models.Organization.name.like("Bench School %")
                    )
                )
            ).all()
        )
        await insert_rows(
            session,
            "centers",
            {
                "site_code": "text",
                "name": "text",
                "kind": "varchar",
                "organization_id": "bigint",
                "partner_school": "bool",
                "state": "varchar",
                "postal_code": "varchar",
                "city": "text",
                "latitude": "float8",
                "longitude": "float8",
            },
            [
                (
                    f"BS-{n:05d}",
                    f"{spot.city} Career Center",
                    "HIGH_SCHOOL",
                    organizations[f"Bench School {n:05d}"],
                    True,
                    spot.state,
                    spot.zip_code,
                    spot.city,
                    spot.latitude,
                    spot.longitude,
                )
                for n, spot in enumerate(chosen)
            ],
        )
        centers = (
            await session.execute(
                select(models.Center.id, models.Center.organization_id, models.Center.site_code)
                .where(models.Center.site_code.like("BS-%"))
                .order_by(models.Center.id)
            )
        ).all()
        cpt = await session.scalar(select(models.Program.id).where(models.Program.code == "CPT"))
        await session.execute(
            text(
                "INSERT INTO center_authorizations (center_id, program_id, authorized_from, "
                "status) SELECT unnest(CAST(:centers AS bigint[])), :program, DATE '2010-01-01', "
                "'ACTIVE'"
            ),
            {"centers": [c.id for c in centers], "program": cpt},
        )
        await session.execute(
            text(
                "INSERT INTO center_authorization_changes (authorization_id, status, "
                "effective_at, reason) SELECT id, 'ACTIVE', TIMESTAMPTZ '2010-01-01 00:00Z', "
                "'authorized' FROM center_authorizations WHERE center_id = ANY(:centers)"
            ),
            {"centers": [c.id for c in centers]},
        )
    return [School(c.organization_id, c.id, c.site_code) for c in centers]


@dataclass(frozen=True, slots=True)
class SavedIndexes:
    """Secondary indexes and unique constraints dropped for the load, as their DDL."""

    drops: list[str]
    creates: list[str]


async def _drop_secondary_indexes(connection: asyncpg.Connection) -> SavedIndexes:
    tables = list(BULK_TABLES)
    constraints = await connection.fetch(
        "SELECT t.relname AS table_name, c.conname, pg_get_constraintdef(c.oid) AS definition "
        "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relname = ANY($1::text[]) AND c.contype = 'u'",
        tables,
    )
    indexes = await connection.fetch(
        "SELECT i.relname AS index_name, pg_get_indexdef(i.oid) AS definition "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid AND c.conrelid = t.oid)",
        tables,
    )
    saved = SavedIndexes(
        drops=[
            f'ALTER TABLE {r["table_name"]} DROP CONSTRAINT "{r["conname"]}"' for r in constraints
        ]
        + [f'DROP INDEX "{r["index_name"]}"' for r in indexes],
        creates=[r["definition"] for r in indexes]
        + [
            f'ALTER TABLE {r["table_name"]} ADD CONSTRAINT "{r["conname"]}" {r["definition"]}'
            for r in constraints
        ],
    )
    for statement in saved.drops:
        await connection.execute(statement)
    return saved


def _asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False).replace(
        "postgresql+asyncpg://", "postgresql://", 1
    )


async def generate_registry(
    engine: AsyncEngine,
    *,
    candidates: int,
    seed: int = 1,
    activity_scores: bool = False,
    log: Callable[[str], None] = print,
) -> Registry:
    """Add ``candidates`` candidates with their results and credentials to an empty registry.

    The database must be prepared (migrations and catalog) and hold no candidates yet.
    """
    now = datetime.now(UTC)
    rng = random.Random(seed)
    began = time.perf_counter()
    async with create_sessionmaker(engine)() as session:
        if await session.scalar(select(models.Candidate.id).limit(1)) is not None:
            raise RuntimeError("generate_registry needs a registry without candidates")
        version = await session.scalar(
            select(models.CatalogVersion.id).order_by(models.CatalogVersion.effective_from)
        )
        snapshot = await read_snapshot(session, version or 0)
    schools = await _add_schools(engine, max(1, candidates // CANDIDATES_PER_SCHOOL), rng)
    registry = Registry(schools=schools)
    registry.seconds["schools"] = time.perf_counter() - began

    dsn = _asyncpg_dsn(engine)
    settings = {"session_replication_role": "replica", "synchronous_commit": "off"}
    admin = await asyncpg.connect(dsn, server_settings={"statement_timeout": "0"})
    loaders = [await asyncpg.connect(dsn, server_settings=settings) for _ in BULK_TABLES]
    try:
        saved = await _drop_secondary_indexes(admin)
        started = time.perf_counter()
        maker = RowMaker(snapshot, schools, seed=seed, now=now, activity_scores=activity_scores)
        sending: list[asyncio.Task[str]] = []
        for first in range(1, candidates + 1, CHUNK):
            # Python makes the next chunk while PostgreSQL ingests the previous one.
            chunk = await asyncio.to_thread(maker.chunk, first, min(CHUNK, candidates + 1 - first))
            await asyncio.gather(*sending)
            sending = [
                asyncio.create_task(
                    connection.copy_records_to_table(
                        table, records=chunk.rows[table], columns=list(COLUMNS[table])
                    )
                )
                for connection, table in zip(loaders, BULK_TABLES, strict=True)
                if chunk.rows[table]
            ]
        await asyncio.gather(*sending)
        registry.seconds["copy"] = time.perf_counter() - started
        log(f"generate: rows sent with COPY in {registry.seconds['copy']:.1f} s")

        started = time.perf_counter()
        await admin.execute("SET maintenance_work_mem = '512MB'")
        for statement in saved.creates:
            await admin.execute(statement)
        for table in (
            "candidates",
            "assessment_results",
            "credentials",
            "credential_status_changes",
        ):
            # Past the ids assigned here, so that the API's own inserts follow on.
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            await admin.execute(f"SELECT setval({sequence}, max(id)) FROM {table}")  # noqa: S608
        registry.seconds["indexes"] = time.perf_counter() - started
        log(f"generate: indexes rebuilt in {registry.seconds['indexes']:.1f} s")

        started = time.perf_counter()
        await admin.execute(f"VACUUM (ANALYZE) {', '.join(BULK_TABLES)}")
        # Flush the load now rather than in a checkpoint spread over the first measurements.
        await admin.execute("CHECKPOINT")
        registry.seconds["vacuum"] = time.perf_counter() - started
    finally:
        for connection in (admin, *loaders):
            await connection.close()
    registry.candidates = maker.counts["candidates"]
    registry.results = maker.counts["assessment_results"]
    registry.credentials = maker.counts["credentials"]
    registry.seconds["total"] = time.perf_counter() - began
    log(
        f"generate: {registry.candidates:,} candidates, {registry.results:,} results, "
        f"{registry.credentials:,} credentials, {len(schools):,} schools in "
        f"{registry.seconds['total']:.1f} s "
        f"(vacuum, analyze and checkpoint {registry.seconds['vacuum']:.1f} s)"
    )
    return registry


# --- command line --------------------------------------------------------------------------


async def run(url: str, args: argparse.Namespace, output: Output) -> None:
    engine = create_engine(url)
    try:
        await prepare_database(engine)
        registry = await generate_registry(
            engine, candidates=args.candidates, seed=args.seed, log=output.log
        )
    finally:
        await engine.dispose()
    section = f"generate ({registry.candidates:,} candidates)"
    total = registry.seconds["total"]
    output.figure(Figure(section, "build time", total, "s", "minutes, not hours", total < 3600))
    rows = registry.candidates + registry.results + registry.credentials
    output.figure(Figure(section, "rows per second", rows / total, "rows/s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="20,000 candidates")
    args = parser.parse_args()
    if args.quick:
        args.candidates = min(args.candidates, 20_000)
    output = Output(as_json=args.json)
    run_on_fresh_database(lambda url: run(url, args, output))


if __name__ == "__main__":
    main()
