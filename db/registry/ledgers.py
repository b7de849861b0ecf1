"""A candidate's ledger, and the rules that judge a result against it.

Three rules depend on the candidate's other results and credentials: the prerequisite held on
the day taken (CLA for CLT), the wait after failures, and the attempt number. Each is one
function here, judged in memory on a ``Ledger`` read under the candidate's lock, and both
recording paths call them through ``judge``: the set-based path (``db/registry/result_batches.py``)
for a whole batch, and the per-candidate path (``db/registry/results.py``) for what the set-based
path leaves. A change to a rule is therefore a change to both paths.

Days are the days of ``db/registry/assessment_day.py``: a failure's wait counts from the day it was
taken at the center (stored as ``taken_on``), and a credential counts as held on a day when it was
issued on that day or before (credentials are dated by day), no status but ACTIVE was in force at
any moment of the day (a suspension at any hour counts for the whole day), and it had not expired
by the day's end. A candidate's results are judged in the order they were taken (``taken_order``),
and attempts are numbered in that order, so a back-filled attempt takes its place among those
already recorded (docs/staff/rules.md).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.registry.assessment_day import end_of_assessment_day, start_of_assessment_day
from db.registry.credentials import issue_day, module_certificate_types
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

    def held_on(self, day: date, *, starts_at: datetime, ends_at: datetime) -> bool:
        """Held ACTIVE for the whole of ``day`` (at the center: from ``starts_at`` to
        ``ends_at``): issued on that day or before, ACTIVE when the day began (or issued during
        it), no other status at any moment of it, and not expired before it ended.

        The issue is judged by its day, never its instant: a CLA earned later in the day than a
        CLT, or on a later day but at an earlier instant in UTC, is judged alike on either path
        and whatever order the results were posted in.
        """
        if issue_day(self.issued_at) > day:
            return False
        began = bisect.bisect_left(self.changes, (starts_at,))
        ended = bisect.bisect_left(self.changes, (ends_at,))
        in_force = [status for _, _, status in self.changes[max(began - 1, 0) : ended]]
        unexpired = self.expires_at is None or self.expires_at >= ends_at
        return unexpired and all(status == "ACTIVE" for status in in_force)


@dataclass(slots=True)
class Ledger:
    """One candidate's attempts (by module) and credentials, read under their lock and kept
    current while a batch is judged."""

    attempts: dict[int, list[Attempt]] = field(default_factory=lambda: defaultdict(list))
    credentials: list[Held] = field(default_factory=list)
    credential_ids: dict[int, Held] = field(default_factory=dict)


# --- the rules ------------------------------------------------------------------------------


def taken_order(item: Prepared) -> tuple[date, datetime, int]:
    """The order a candidate's results are judged in: by the day taken, then the instant,
    then the order sent."""
    return (item.taken_on, item.submission.taken_at, item.index)


def prerequisite_problem(ledger: Ledger, item: Prepared) -> Problem | None:
    """A credential with a prerequisite (CLT: CLA) only for a candidate who held the
    prerequisite ACTIVE for the whole day the assessment was taken."""
    day = item.taken_on
    starts_at = start_of_assessment_day(item.submission.taken_at)
    ends_at = end_of_assessment_day(item.submission.taken_at)
    for ctype in module_certificate_types(item.catalog, item.module.id):
        if ctype.prerequisite_id is None:
            continue
        if any(
            held.credential_type_id == ctype.prerequisite_id
            and held.held_on(day, starts_at=starts_at, ends_at=ends_at)
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


def _taken_before(attempt: Attempt, item: Prepared) -> bool:
    """Whether a recorded attempt was taken before ``item``, by day, then instant; a recorded
    attempt of the same instant counts as before (it has the smaller id)."""
    return (attempt.taken_on, attempt.taken_at) <= (item.taken_on, item.submission.taken_at)


def retake_problem(ledger: Ledger, item: Prepared) -> Problem | None:
    """After a failure, the catalog's wait in days; after several, the long one. Only the
    attempts taken before this one count, whatever order they were posted in: a back-filled
    attempt is judged by what came before it, and never changes the judgement of one already
    recorded after it."""
    failures = [
        attempt
        for attempt in ledger.attempts.get(item.module.id, ())
        if not attempt.passed and _taken_before(attempt, item)
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
    """Every accepted attempt at the module counts, in the order they were taken: this one's
    number is one more than the attempts taken before it."""
    attempts = ledger.attempts.get(item.module.id, ())
    return sum(_taken_before(attempt, item) for attempt in attempts) + 1


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    attempt_number: int
    # A back-filled attempt: recorded ones taken after it are numbered one later.
    renumbers_later: bool


def judge(ledger: Ledger, item: Prepared) -> Verdict | Problem:
    """The rules that read the candidate's history, in order. An accepted item joins the
    ledger, so the next item of the same candidate is judged with it."""
    problem = prerequisite_problem(ledger, item) or retake_problem(ledger, item)
    if problem is not None:
        return problem
    number = attempt_number(ledger, item)
    attempts = ledger.attempts[item.module.id]
    verdict = Verdict(
        passed=item.passed, attempt_number=number, renumbers_later=number <= len(attempts)
    )
    attempts.append(Attempt(item.submission.taken_at, item.taken_on, verdict.passed))
    return verdict


# --- attempt numbers in the order taken -----------------------------------------------------

# Numbers stay unique per (candidate, module); the check waits for the commit while a
# back-filled attempt takes a number a later one holds until it is renumbered.
_DEFER_ATTEMPT_NUMBERS = text(
    "SET CONSTRAINTS uq_assessment_results_candidate_id_module_id_attempt_number DEFERRED"
)
_RENUMBER_ATTEMPTS = text(
    """
    UPDATE assessment_results AS result SET attempt_number = ordered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY candidate_id, module_id
                                        ORDER BY taken_on, taken_at, id) AS number
          FROM assessment_results
          WHERE candidate_id = ANY(CAST(:candidates AS bigint[]))) AS ordered
    WHERE result.id = ordered.id AND result.attempt_number <> ordered.number
    """
)


async def defer_attempt_numbers(session: AsyncSession) -> None:
    """Before recording a back-filled attempt (``Verdict.renumbers_later``)."""
    await session.execute(_DEFER_ATTEMPT_NUMBERS)


async def renumber_attempts(session: AsyncSession, candidate_ids: Collection[int]) -> None:
    """Number the candidates' attempts at each module in the order they were taken (day,
    instant, then the order recorded): after a back-filled attempt, or a merge."""
    await session.execute(_RENUMBER_ATTEMPTS, {"candidates": sorted(candidate_ids)})


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
