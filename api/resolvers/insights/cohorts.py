"""Cohorts: the caller's list, node lookups, and the mutations that keep them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info
from api.schema.insights.cohorts import (
    Cohort,
    CohortMembersInput,
    CohortPayload,
    CreateCohortInput,
    DeleteCohortInput,
    DeleteCohortPayload,
)
from api.schema.node import parse_global_id
from api.schema.user_error import UserError
from auth.principal import Principal
from auth.scopes import Scope
from db.errors import RuleViolation
from db.insights.cohorts import (
    CohortRecord,
    Owner,
    add_members,
    cohorts_of,
    create_cohort,
    delete_cohort,
    members_of,
    remove_members,
)


def _owner(principal: Principal) -> Owner:
    return Owner(principal.organization_id, principal.organization_kind)


async def cohorts(info: Info) -> list[Cohort]:
    owner = _owner(info.context.require_principal())
    async with info.context.sessionmaker() as session:
        records = await cohorts_of(session, owner)
        members = await members_of(session, owner, [r.id for r in records]) if records else {}
    return [Cohort.from_record(r, members.get(r.id, [])) for r in records]


async def cohort_node(info: Info, pk: int) -> Cohort | None:
    principal = info.context.principal
    if principal is None or not principal.has_scope(Scope.DIAGNOSTICS_READ):
        return None
    owner = _owner(principal)
    async with info.context.sessionmaker() as session:
        found = await cohorts_of(session, owner, ids=[pk])
        if not found:
            return None
        members = await members_of(session, owner, [pk])
    return Cohort.from_record(found[0], members.get(pk, []))


def _candidate_pks(ids: Sequence[str]) -> list[int]:
    pks = []
    for index, global_id in enumerate(ids):
        pk = parse_global_id(global_id, "Candidate")
        if pk is None:
            raise RuleViolation("INVALID", "not a Candidate ID", field=("candidateIds", str(index)))
        pks.append(pk)
    return pks


def _cohort_pk(global_id: str) -> int:
    pk = parse_global_id(global_id, "Cohort")
    if pk is None:
        raise RuleViolation("NOT_FOUND", "no such cohort of yours", field=("cohortId",))
    return pk


def _user_error(violation: RuleViolation) -> UserError:
    return UserError(code=violation.code, field=list(violation.field), message=violation.message)


async def _write(
    info: Info, change: Callable[[AsyncSession, Owner], Awaitable[CohortRecord]]
) -> CohortPayload:
    """Run ``change(session, owner)`` in a transaction; answer the cohort as it then stands."""
    owner = _owner(info.context.require_principal())
    try:
        async with info.context.sessionmaker.begin() as session:
            record = await change(session, owner)
            members = await members_of(session, owner, [record.id])
    except RuleViolation as violation:
        return CohortPayload(cohort=None, user_errors=[_user_error(violation)])
    return CohortPayload(
        cohort=Cohort.from_record(record, members.get(record.id, [])), user_errors=[]
    )


async def create_cohort_mutation(info: Info, input: CreateCohortInput) -> CohortPayload:
    client_pk = info.context.require_principal().client_pk

    async def change(session: AsyncSession, owner: Owner) -> CohortRecord:
        return await create_cohort(
            session,
            owner,
            name=input.name,
            candidate_ids=_candidate_pks(input.candidate_ids),
            client_pk=client_pk,
        )

    return await _write(info, change)


async def add_cohort_members(info: Info, input: CohortMembersInput) -> CohortPayload:
    async def change(session: AsyncSession, owner: Owner) -> CohortRecord:
        return await add_members(
            session,
            owner,
            cohort_id=_cohort_pk(input.cohort_id),
            candidate_ids=_candidate_pks(input.candidate_ids),
        )

    return await _write(info, change)


async def remove_cohort_members(info: Info, input: CohortMembersInput) -> CohortPayload:
    async def change(session: AsyncSession, owner: Owner) -> CohortRecord:
        return await remove_members(
            session,
            owner,
            cohort_id=_cohort_pk(input.cohort_id),
            candidate_ids=_candidate_pks(input.candidate_ids),
        )

    return await _write(info, change)


async def delete_cohort_mutation(info: Info, input: DeleteCohortInput) -> DeleteCohortPayload:
    owner = _owner(info.context.require_principal())
    try:
        async with info.context.sessionmaker.begin() as session:
            await delete_cohort(session, owner, cohort_id=_cohort_pk(input.cohort_id))
    except RuleViolation as violation:
        return DeleteCohortPayload(deleted=False, user_errors=[_user_error(violation)])
    return DeleteCohortPayload(deleted=True, user_errors=[])
