"""``mssc serve --demo``: load the demo data set after migrations and the catalog.

The demo is a list of steps, each idempotent, so serving with ``--demo`` twice loads nothing
twice:

0. ``catalog_step``: the demo's own catalog version, with demo numbers for CLA and CLT
   (``db/demo/catalog.py``), published before any demo result is judged.
1. ``network_step``: organizations, centers with their authorization history, instructors,
   proctors (``db/demo``).
2. ``registry_step``: candidates and their results, posted through the same rules code that
   ``postResults`` uses (never a simplified copy), so the demo's credentials are exactly what
   the rules issue.
2b. ``logistics_step``: a handful of logistics candidates along the CLA → CLT path
   (``db/demo/logistics.py``), through the same rules.
3. ``clients_step``: a staff, a school and an employer client, and the employer's consent to
   see some of the school's candidates. Secrets are stored hashed, so each run gives the demo
   clients fresh secrets, prints them and writes them to ``demo.env`` in the data directory.
"""

from __future__ import annotations

import functools
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.settings import Settings
from auth import clients
from auth.scopes import TYPICAL_SCOPES
from cli.database import run_with_engine
from cli.failures import CliFailure
from db import models
from db.catalog.document import CatalogFileError
from db.catalog.versions import CatalogStore, load_catalog
from db.demo.catalog import demo_catalog_document
from db.demo.load import DemoConflict, load_network
from db.demo.logistics import LOGISTICS_PREFIX, load_logistics
from db.demo.network import SCHOOL_NETWORKS, plan_network
from db.demo.registry import CANDIDATES, EXTERNAL_ID_PREFIX, load_registry
from db.platform.engine import create_sessionmaker
from db.registry.consent import create_share_code, redeem_share_code

DemoStep = Callable[[async_sessionmaker[AsyncSession], date], Awaitable[list[str]]]
"""Loads (or finds) one part of the demo as of the given day; returns lines to print."""

STAFF_ORGANIZATION = "MSSC Registry Staff"
# A manufacturer: its applicants' CPT records make the diagnostic tool's demo.
DEMO_EMPLOYER = "Keystone Precision Manufacturing"
CONSENTING_CANDIDATES = 50
# In the data directory (.mssc/ by default), beside the database and the keys it also guards.
DEMO_ENV_FILE = "demo.env"


async def catalog_step(sessionmaker: async_sessionmaker[AsyncSession], day: date) -> list[str]:
    document = demo_catalog_document()
    try:
        async with sessionmaker.begin() as session:
            created = await load_catalog(session, document)
    except CatalogFileError as error:
        if error.field != ("effective_from",):
            raise DemoConflict(f"catalog version {document.label}: {error}") from None
        # A database that already holds results (an earlier demo, or real ones): the version
        # would re-judge them, so it is not published, and the demo goes on without the
        # logistics path rather than refusing to start.
        return [
            f"catalog: version {document.label} not published: {error.problem}. The "
            "logistics candidates need it: load the demo into an empty database (a new "
            "MSSC_DATA_DIR) to see them"
        ]
    state = "published" if created else "already published"
    return [
        f"catalog: version {document.label} (demo values for CLA and CLT, in force from "
        f"{document.effective_from}) {state}"
    ]


async def network_step(sessionmaker: async_sessionmaker[AsyncSession], day: date) -> list[str]:
    plan = plan_network(day=day)
    async with sessionmaker.begin() as session:
        load = await load_network(session, plan)
    what = (
        f"{load.centers:,} centers ({load.authorizations:,} authorizations), "
        f"{load.instructors:,} instructors, {load.proctors:,} proctors and site coordinators"
    )
    return [f"network: {what} {'loaded' if load.created else 'already loaded'}"]


async def registry_step(
    sessionmaker: async_sessionmaker[AsyncSession], day: date, *, candidates: int = CANDIDATES
) -> list[str]:
    load = await load_registry(
        sessionmaker, day=day, catalogs=CatalogStore(sessionmaker), candidates=candidates
    )
    if not load.created:
        return [f"registry: {load.candidates:,} candidates already loaded"]
    posted = ", ".join(
        f"{count:,} {status.lower()}" for status, count in sorted(load.outcomes.items())
    )
    return [
        f"registry: {load.candidates:,} candidates; results through the rules: {posted}; "
        f"{load.credentials:,} credentials issued"
    ]


async def logistics_step(sessionmaker: async_sessionmaker[AsyncSession], day: date) -> list[str]:
    load = await load_logistics(sessionmaker, day=day, catalogs=CatalogStore(sessionmaker))
    if not load.created:
        return [
            f"logistics: {LOGISTICS_PREFIX}1 to 6 already loaded, or not loadable here (no "
            "center authorized for CLT, or no CLA cut score in force)"
        ]
    posted = ", ".join(f"{n} {status.lower()}" for status, n in sorted(load.outcomes.items()))
    refused = ", ".join(f"{n} {code}" for code, n in sorted(load.refusals.items()))
    return [
        f"logistics: candidates {LOGISTICS_PREFIX}1 to 6 tested at {load.site_code}: {posted}"
        f" ({refused}); {load.credentials} credentials issued, {load.suspended} suspended"
    ]


async def _demo_client(session: AsyncSession, organization: str, kind: str) -> tuple[str, str]:
    """A client for the organization with fresh credentials: created, or its secret rotated."""
    existing = await clients.list_clients(
        session,
        organization_pk=await session.scalar(
            select(models.Organization.id).where(models.Organization.name == organization)
        ),
    )
    live = [c for c in existing if not c.is_disabled]
    if live:
        rotated = await clients.rotate_secret(session, live[0].client_id)
        return rotated.client_id, rotated.client_secret
    issued = await clients.create_client(
        session,
        organization_name=organization,
        organization_kind=kind,
        scopes=[s.value for s in TYPICAL_SCOPES[kind]],
    )
    return issued.client_id, issued.client_secret


async def _give_consent(session: AsyncSession, *, school: str, employer: str, now: datetime) -> int:
    """The employer redeems share codes for some of the school's demo candidates (once)."""
    school_id = await session.scalar(
        select(models.Organization.id).where(models.Organization.name == school)
    )
    employer_id = await session.scalar(
        select(models.Organization.id).where(models.Organization.name == employer)
    )
    if school_id is None or employer_id is None:
        return 0
    granted = await session.scalar(
        select(func.count())
        .select_from(models.ConsentGrant)
        .where(models.ConsentGrant.organization_id == employer_id)
    )
    if granted:
        return granted
    tested = await session.execute(
        select(models.Candidate.id, models.Candidate.family_name)
        .join(models.CandidateLink, models.CandidateLink.candidate_id == models.Candidate.id)
        .where(
            models.CandidateLink.organization_id == school_id,
            models.CandidateLink.external_id.like(f"{EXTERNAL_ID_PREFIX}%"),
            models.Candidate.id.in_(select(models.AssessmentResult.candidate_id)),
        )
        .order_by(models.Candidate.id)
        .limit(CONSENTING_CANDIDATES)
    )
    count = 0
    for candidate_id, family_name in tested:
        share = await create_share_code(
            session,
            candidate_id=candidate_id,
            organization_id=school_id,
            expires_in_days=30,
            now=now,
        )
        redemption = await redeem_share_code(
            session,
            code=share.code,
            family_name=family_name,
            purpose="demo: screening applicants for line technician roles",
            organization_id=employer_id,
            now=now,
        )
        count += redemption.grant is not None
    return count


def write_demo_env(path: Path, *, served_at: str, credentials: dict[str, tuple[str, str]]) -> None:
    """The demo clients as shell variables (``source .mssc/demo.env``), readable by the owner
    only: the guides' examples start from it instead of secrets pasted from the log."""
    lines = [
        "# Written by `mssc serve --demo` at every start: the demo clients' fresh secrets.",
        f"export MSSC_URL={shlex.quote(served_at)}",
    ]
    for label, (client_id, secret) in credentials.items():
        prefix = label.upper()
        lines.append(f"export {prefix}_CLIENT_ID={shlex.quote(client_id)}")
        lines.append(f"export {prefix}_CLIENT_SECRET={shlex.quote(secret)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n")


async def clients_step(
    sessionmaker: async_sessionmaker[AsyncSession],
    day: date,
    *,
    served_at: str,
    env_file: Path | None = None,
) -> list[str]:
    school = sorted(SCHOOL_NETWORKS)[0]
    employer = DEMO_EMPLOYER
    credentials: dict[str, tuple[str, str]] = {}
    async with sessionmaker.begin() as session:
        lines = []
        for label, organization, kind in (
            ("staff", STAFF_ORGANIZATION, "STAFF"),
            ("school", school, "SCHOOL"),
            ("employer", employer, "EMPLOYER"),
        ):
            client_id, secret = await _demo_client(session, organization, kind)
            credentials[label] = (client_id, secret)
            lines.append(
                f"  {label:<9}{organization}: client_id={client_id} client_secret={secret}"
            )
        consents = await _give_consent(
            session, school=school, employer=employer, now=datetime.now(UTC)
        )
    lines.append(
        "  token:   curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
        f"{served_at}/oauth/token"
    )
    if env_file is not None:
        write_demo_env(env_file, served_at=served_at, credentials=credentials)
        lines.append(f"  shell:   source {env_file} (MSSC_URL, STAFF_/SCHOOL_/EMPLOYER_CLIENT_ID…)")
    return [
        f"clients: {employer} holds consent from {consents} of {school}'s candidates; "
        "demo clients (secrets change on every --demo start):",
        *lines,
    ]


def load_demo(
    settings: Settings,
    *,
    day: date | None = None,
    candidates: int = CANDIDATES,
    served_at: str = "http://127.0.0.1:8000",
) -> None:
    """Load every demo step into the database ``settings`` names (already bootstrapped);
    ``served_at`` is where the server will answer (for the token command it prints)."""
    as_of = day or datetime.now(UTC).date()
    steps: tuple[DemoStep, ...] = (
        catalog_step,
        network_step,
        functools.partial(registry_step, candidates=candidates),
        logistics_step,
        functools.partial(
            clients_step, served_at=served_at, env_file=settings.data_dir / DEMO_ENV_FILE
        ),
    )

    async def work(engine: AsyncEngine) -> list[str]:
        sessionmaker = create_sessionmaker(engine)
        lines = []
        for step in steps:
            started = time.perf_counter()
            step_lines = await step(sessionmaker, as_of)
            step_lines[0] += f" ({time.perf_counter() - started:.1f} s)"
            lines.extend(step_lines)
        return lines

    try:
        lines = run_with_engine(settings, work)
    except DemoConflict as conflict:
        raise CliFailure(f"demo: {conflict}") from None
    for line in lines:
        print(f"mssc: demo {line}", file=sys.stderr)
