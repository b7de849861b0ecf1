"""A candidate's ledger, and the rules that judge a result against it.

Three rules depend on the candidate's other results and credentials: the prerequisite held on
the day taken (CLA for CLT), the wait after failures, and the attempt number. Each is one
function here, judged in memory on a ``Ledger`` read under the candidate's lock, and both
recording paths call them through ``judge``: the set-based path (``db/registry/result_batches.py``)
for a whole batch, and the per-candidate path (``db/registry/results.py``) for what the set-based
path leaves. A change to a rule is therefore a change to both paths.

Days are the days of ``db/registry/assessment_day.py``: a failure's wait counts from the day it was
taken at the center (stored as ``taken_on``), and a credential counts as held on a day when it was
issued before the day ended at the center, its latest status change before then left it ACTIVE
(a suspension at any hour of the day counts for the whole day), and it had not expired by then.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.registry.assessment_day import end_of_assessment_day
from db.registry.credentials import module_certificate_types
from db.registry.result_items import Prepared, Problem


class Attempt(NamedTuple):
    taken_at: datetime
    taken_on: date  # the day of the assessment at the center
    passed: bool


@dataclass(slots=True)
class Held:
    """A credential as the rules see it; ``changes`` are (at, order, status), oldest first.

    The changes are read only for the credentials a prerequisite rule needs.
    """

    credential_type_id: int
    status: str
    issued_at: datetime
    reissue_allowed_at: datetime | None = None
    changes: list[tuple[datetime, int, str]] = field(default_factory=list)
    expires_at: datetime | None = None

    def active_before(self, moment: datetime) -> bool:
        """Issued before ``moment``, ACTIVE by the last change before it, and not expired by
        then (the expiry's own history row may be written minutes late)."""
        position = bisect.bisect_left(self.changes, (moment,))
        latest = self.changes[position - 1][2] if position else None
        unexpired = self.expires_at is None or self.expires_at >= moment
        return self.issued_at < moment and latest == "ACTIVE" and unexpired


@dataclass(slots=True)
class Ledger:
    """One candidate's attempts (by module) and credentials, read under their lock and kept
    current while a batch is judged."""

    attempts: dict[int, list[Attempt]] = field(default_factory=lambda: defaultdict(list))
    credentials: list[Held] = field(default_factory=list)
    credential_ids: dict[int, Held] = field(default_factory=dict)


# --- the rules ------------------------------------------------------------------------------


def prerequisite_problem(ledger: Ledger, item: Prepared) -> Problem | None:
    """CLT only for a candidate who held CLA (ACTIVE) on the day taken."""
    day_ends_at = end_of_assessment_day(item.submission.taken_at)
    for ctype in module_certificate_types(item.catalog, item.module.id):
        if ctype.prerequisite_id is None:
            continue
        if any(
            held.credential_type_id == ctype.prerequisite_id and held.active_before(day_ends_at)
            for held in ledger.credentials
        ):
            continue
        prerequisite = item.catalog.credential_type_by_id(ctype.prerequisite_id)
        code = prerequisite.code if prerequisite else "its prerequisite"
        return Problem(
            "PREREQUISITE_MISSING",
            ("moduleCode",),
            f"{ctype.code} requires holding {code} on the day taken ({item.taken_on})",
        )
    return None


def earliest_retake(failure_days: Sequence[date], *, wait_days: int) -> date:
    """The first day a retake may be taken: ``wait_days`` calendar days after the last failure."""
    return max(failure_days) + timedelta(days=wait_days)


def retake_problem(ledger: Ledger, item: Prepared) -> Problem | None:
    """After a failure, the catalog's wait in days; after several, the long one."""
    failures = [
        attempt
        for attempt in ledger.attempts.get(item.module.id, ())
        if not attempt.passed and attempt.taken_at < item.submission.taken_at
    ]
    if not failures:
        return None
    policy = item.catalog.retake_policy
    long_wait = len(failures) >= policy.failures_before_long_wait
    wait_days = policy.long_wait_days if long_wait else policy.wait_days
    earliest = earliest_retake([a.taken_on for a in failures], wait_days=wait_days)
    if item.taken_on >= earliest:
        return None
    return Problem(
        "RETAKE_TOO_SOON",
        ("takenAt",),
        f"after {len(failures)} failed attempt(s) at {item.module.code} the wait is {wait_days} "
        f"days: the earliest retake day is {earliest}; this one was taken on {item.taken_on}",
    )


def attempt_number(ledger: Ledger, item: Prepared) -> int:
    """Every accepted attempt at the module counts, this one included."""
    return len(ledger.attempts.get(item.module.id, ())) + 1


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    attempt_number: int


def judge(ledger: Ledger, item: Prepared) -> Verdict | Problem:
    """The rules that read the candidate's history, in order. An accepted item joins the
    ledger, so the next item of the same candidate is judged with it."""
    problem = prerequisite_problem(ledger, item) or retake_problem(ledger, item)
    if problem is not None:
        return problem
    verdict = Verdict(passed=item.passed, attempt_number=attempt_number(ledger, item))
    ledger.attempts[item.module.id].append(
        Attempt(item.submission.taken_at, item.taken_on, verdict.passed)
    )
    return verdict


# --- reading ledgers ------------------------------------------------------------------------


# Reads look each wanted key up on an index: ``unnest`` with a LATERAL subquery that
# ``OFFSET 0`` keeps from being flattened into a join. A filter ``= ANY(...)``, or a plain join,
# lets the planner scan a whole table (or all of an organization's results) and compare every
# row with the list when its statistics lag behind a growing table.
def by_key(key_type: str, columns: str, table: str, condition: str, order: str = "") -> TextClause:
    return text(
        f"SELECT found.* FROM unnest(CAST(:keys AS {key_type}[])) AS wanted(key) "  # noqa: S608 (constants)
        f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} WHERE {condition} OFFSET 0) AS found"
        + (f" ORDER BY {order}" if order else "")
    )


_ATTEMPTS = by_key(
    "bigint",
    "candidate_id, module_id, taken_at, taken_on, passed",
    "assessment_results",
    "candidate_id = wanted.key",
)
_CREDENTIALS = by_key(
    "bigint",
    "id, candidate_id, credential_type_id, status, issued_at, expires_at, reissue_allowed_at",
    "credentials",
    "candidate_id = wanted.key",
    order="found.id",
)
_STATUS_CHANGES = by_key(
    "bigint",
    "credential_id, at, id, status",
    "credential_status_changes",
    "credential_id = wanted.key",
)


def _prerequisites(items: Sequence[Prepared]) -> set[int]:
    return {
        ctype.prerequisite_id
        for item in items
        for ctype in module_certificate_types(item.catalog, item.module.id)
        if ctype.prerequisite_id is not None
    }


async def read_ledgers(
    session: AsyncSession, groups: Mapping[int, Sequence[Prepared]]
) -> dict[int, Ledger]:
    """The ledgers of the candidates of ``groups`` (candidate → the items to judge), in two
    statements, three when an item needs a prerequisite's status history. Call it holding the
    candidates' locks."""
    ids = list(groups)
    ledgers = {candidate_id: Ledger() for candidate_id in ids}
    for row in await session.execute(_ATTEMPTS, {"keys": ids}):
        ledgers[row.candidate_id].attempts[row.module_id].append(
            Attempt(row.taken_at, row.taken_on, row.passed)
        )
    for row in await session.execute(_CREDENTIALS, {"keys": ids}):
        held = Held(
            row.credential_type_id,
            row.status,
            row.issued_at,
            expires_at=row.expires_at,
            reissue_allowed_at=row.reissue_allowed_at,
        )
        ledgers[row.candidate_id].credentials.append(held)
        ledgers[row.candidate_id].credential_ids[row.id] = held
    wanted = {
        credential_id
        for candidate_id, items in groups.items()
        for prerequisite in _prerequisites(items)
        for credential_id, held in ledgers[candidate_id].credential_ids.items()
        if held.credential_type_id == prerequisite
    }
    if wanted:
        by_id = {i: h for ledger in ledgers.values() for i, h in ledger.credential_ids.items()}
        for row in await session.execute(_STATUS_CHANGES, {"keys": list(wanted)}):
            by_id[row.credential_id].changes.append((row.at, row.id, row.status))
        for credential_id in wanted:
            by_id[credential_id].changes.sort()
    return ledgers
