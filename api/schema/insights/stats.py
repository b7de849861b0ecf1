"""Registry dashboards (``stats``): the contract's totals and vision, plus breakdowns.

Every figure is computed only when selected, once per request (``StatsSource``).
"""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from api.errors import BadUserInput
from api.resolvers.insights.stats_source import StatsSource
from api.schema.catalog import Module
from api.schema.network.centers import Center
from db.insights import stats

MAX_CENTERS = 100
MAX_MONTHS = 240
DEFAULT_MONTHS = 12

RATE_OF_PASSES = "Passed over given, from 0 to 1; null when none were given."


@strawberry.type(description='Progress toward the "20/20" vision of credentialed individuals.')
class VisionProgress:
    target_credentialed: int
    target_year: int
    credentialed: int = strawberry.field(
        description="People holding at least one credential that was not revoked, to date."
    )
    percent: float = strawberry.field(description="credentialed as a percentage of the target.")
    months_remaining: int = strawberry.field(
        description="This month through December of the target year (0 once it is over)."
    )
    monthly_rate_needed: int | None = strawberry.field(
        description=(
            "People to credential each month from now on to reach the target in time (0 once "
            "reached; null when the target year is over)."
        )
    )
    credentialed_last_12_months: int = strawberry.field(
        description="People who joined the credentialed in the last twelve months."
    )
    recent_monthly_rate: float = strawberry.field(
        description="credentialedLast12Months / 12: the pace to compare with the rate needed."
    )

    @classmethod
    def from_progress(cls, progress: stats.VisionProgress) -> VisionProgress:
        return cls(
            target_credentialed=progress.target_credentialed,
            target_year=progress.target_year,
            credentialed=progress.credentialed,
            percent=progress.percent,
            months_remaining=progress.months_remaining,
            monthly_rate_needed=progress.monthly_rate_needed,
            credentialed_last_12_months=progress.credentialed_last_12_months,
            recent_monthly_rate=progress.recent_monthly_rate,
        )


@strawberry.type(description="Assessments and certificates of one module in the period.")
class ModuleStats:
    module: Module
    assessments_given: int
    assessments_passed: int
    pass_rate: float | None = strawberry.field(description=RATE_OF_PASSES)
    certificates_issued: int = strawberry.field(
        description="Credentials earned by this module alone (its certificate) in the period."
    )


@strawberry.type(description="One state (or country abroad) in the period.")
class StateStats:
    country: str
    state: str | None = strawberry.field(description="USPS code; null abroad.")
    assessments_given: int
    assessments_passed: int
    pass_rate: float | None = strawberry.field(description=RATE_OF_PASSES)
    credentials_issued: int = strawberry.field(
        description="Credentials whose issuing assessment was taken at a center there."
    )
    active_centers: int = strawberry.field(description="Centers there authorized on asOf.")
    active_instructors: int = strawberry.field(
        description="Instructors authorized on asOf at centers there (once per state)."
    )


@strawberry.type(description="One center in the period.")
class CenterStats:
    center: Center
    assessments_given: int
    assessments_passed: int
    pass_rate: float | None = strawberry.field(description=RATE_OF_PASSES)
    credentials_issued: int


@strawberry.type(
    description=(
        "One calendar month: results by their assessment day (takenOn), credentials by the UTC "
        "day they were issued."
    )
)
class MonthStats:
    month: datetime.date = strawberry.field(description="The month's first day.")
    assessments_given: int
    assessments_passed: int
    pass_rate: float | None = strawberry.field(description=RATE_OF_PASSES)
    credentials_issued: int
    newly_credentialed: int = strawberry.field(
        description="People whose first credential (not revoked) was issued that month."
    )


@strawberry.type(
    description=(
        "Registry figures for a period of days (from/until, both included; all time when "
        "omitted): results count on their assessment day (takenOn, the center's calendar), "
        "credentials on the UTC day they were issued. Active centers and instructors are "
        "counted on asOf."
    )
)
class RegistryStats:
    source: strawberry.Private[StatsSource]
    from_: datetime.date | None = strawberry.field(name="from")
    until: datetime.date | None
    as_of: datetime.date = strawberry.field(
        description="The day active centers and instructors are counted: until, or today."
    )

    @strawberry.field(description="Assessments taken in the period.")
    async def assessments_given(self) -> int:
        return (await self.source.totals()).assessments_given

    @strawberry.field(description="Of those, how many passed.")
    async def assessments_passed(self) -> int:
        return (await self.source.totals()).assessments_passed

    @strawberry.field(description=RATE_OF_PASSES)
    async def pass_rate(self) -> float | None:
        return (await self.source.totals()).pass_rate

    @strawberry.field(description="Credentials issued in the period, whatever their status since.")
    async def credentials_issued(self) -> int:
        return (await self.source.totals()).credentials_issued

    @strawberry.field(
        description="People holding a credential issued in the period that was not revoked."
    )
    async def candidates_credentialed(self) -> int:
        return (await self.source.totals()).candidates_credentialed

    @strawberry.field(description="Centers authorized for some program on asOf.")
    async def active_centers(self) -> int:
        return await self.source.active_centers()

    @strawberry.field(description="Instructors authorized to teach some module on asOf.")
    async def active_instructors(self) -> int:
        return await self.source.active_instructors()

    @strawberry.field(description="Toward the 20/20 target: to date, whatever the period.")
    async def vision_progress(self) -> VisionProgress:
        return VisionProgress.from_progress(await self.source.vision_progress())

    @strawberry.field(description="Every module of today's catalog, in catalog order.")
    async def by_module(self) -> list[ModuleStats]:
        figures = await self.source.by_module()
        rows = []
        for spec in self.source.catalog.modules:
            found = figures.get(spec.id) or stats.ModuleFigures(0, 0, 0, module_id=spec.id)
            rows.append(
                ModuleStats(
                    module=Module.from_spec(spec),
                    assessments_given=found.assessments_given,
                    assessments_passed=found.assessments_passed,
                    pass_rate=found.pass_rate,
                    certificates_issued=found.credentials_issued,
                )
            )
        return rows

    @strawberry.field(
        description=(
            "Places with assessments or credentials in the period, or active centers or "
            "instructors: US states first, then other countries."
        )
    )
    async def by_state(self) -> list[StateStats]:
        return [
            StateStats(
                country=f.country,
                state=f.state,
                assessments_given=f.assessments_given,
                assessments_passed=f.assessments_passed,
                pass_rate=f.pass_rate,
                credentials_issued=f.credentials_issued,
                active_centers=f.active_centers,
                active_instructors=f.active_instructors,
            )
            for f in await self.source.by_state()
        ]

    @strawberry.field(description="The centers that gave the most assessments in the period.")
    async def by_center(
        self,
        first: Annotated[int, strawberry.argument(description="1 to 100.")] = 20,
        state: Annotated[
            str | None, strawberry.argument(description="Only centers in this US state.")
        ] = strawberry.UNSET,
    ) -> list[CenterStats]:
        if not 1 <= first <= MAX_CENTERS:
            raise BadUserInput(
                f"first must be between 1 and {MAX_CENTERS} (got {first}).", argument="first"
            )
        code = None if state is None or state is strawberry.UNSET else state.strip().upper()
        if code is not None and not (len(code) == 2 and code.isalpha()):
            raise BadUserInput(
                f"state must be a two-letter code such as OH (got {state!r}).", argument="state"
            )
        rows = await self.source.by_center(limit=first, state=code)
        return [
            CenterStats(
                center=Center.from_record(record, self.source.catalog),
                assessments_given=f.assessments_given,
                assessments_passed=f.assessments_passed,
                pass_rate=f.pass_rate,
                credentials_issued=f.credentials_issued,
            )
            for f, record in rows
        ]

    @strawberry.field(
        description=(
            "Month by month over the period; without from, the twelve months up to asOf. "
            "Months with nothing in them are listed too."
        )
    )
    async def by_month(self) -> list[MonthStats]:
        last = self.as_of
        first = self.from_ or stats.add_months(last.replace(day=1), 1 - DEFAULT_MONTHS)
        if stats.months_between(first, last) > MAX_MONTHS:
            raise BadUserInput(
                f"byMonth covers at most {MAX_MONTHS} months; narrow from and until.",
                argument="from",
            )
        return [
            MonthStats(
                month=f.month,
                assessments_given=f.assessments_given,
                assessments_passed=f.assessments_passed,
                pass_rate=f.pass_rate,
                credentials_issued=f.credentials_issued,
                newly_credentialed=f.newly_credentialed,
            )
            for f in await self.source.by_month(first=first, last=last)
        ]
