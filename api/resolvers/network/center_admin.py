"""Staff mutations that run the center network: authorizations, instructors and proctors.

Each owns its transaction. A :class:`~db.errors.RuleViolation` rolls it back and becomes a
``UserError`` whose ``field`` is the path into the mutation's input: the ``db`` function's
snake_case argument path, renamed where the input names that argument differently, in
camelCase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from api.context import Info, today
from api.resolvers.arguments import given
from api.schema.catalog import Module
from api.schema.network.authorizations import CenterAuthorization
from api.schema.network.center_admin import (
    CenterAuthorizationActionInput,
    CenterAuthorizationPayload,
    CenterPayload,
    InstructorModuleGrant,
    RegisterInstructorInput,
    RegisterInstructorPayload,
    RegisterProctorInput,
    RegisterProctorPayload,
)
from api.schema.network.centers import AuthorizeCenterInput, Center, Proctor
from api.schema.network.instructors import Instructor
from api.schema.node import parse_global_id
from api.schema.user_error import UserError
from db.errors import RuleViolation
from db.network import centers as db_centers
from db.network.authorizations import AuthorizationAction, authorizations_of_centers
from db.network.instructors import ModuleGrant, instructor_record
from db.network.instructors import register_instructor as register_instructor_record
from db.network.proctors import register_proctor as register_proctor_record


def user_error(violation: RuleViolation, renamed: Mapping[str, str] | None = None) -> UserError:
    path = list(violation.field)
    if path and renamed and path[0] in renamed:
        path[0] = renamed[path[0]]
    return UserError(
        code=violation.code,
        field=[to_camel_case(part) for part in path] or None,
        message=violation.message,
    )


async def _centers(info: Info, session: AsyncSession, ids: Sequence[int]) -> list[Center]:
    """Centers as they stand after the change (never from the request's loader cache)."""
    found = await db_centers.get_centers(session, ids, day=today())
    catalog = await info.context.catalog_today()
    return [Center.from_record(found[pk], catalog) for pk in ids if pk in found]


# --- authorizing centers ------------------------------------------------------------------


async def authorize_center(info: Info, input: AuthorizeCenterInput) -> CenterPayload:
    principal = info.context.require_principal()
    organization_pk = None
    if given(input.organization_id) is not None:
        organization_pk = parse_global_id(str(input.organization_id), "Organization")
        if organization_pk is None:
            error = UserError(
                code="INVALID", field=["organizationId"], message="not an Organization ID"
            )
            return CenterPayload(center=None, user_errors=[error])
    try:
        async with info.context.sessionmaker.begin() as session:
            authorized = await db_centers.authorize_center(
                session,
                input.center_details(organization_pk=organization_pk),
                program_codes=input.program_codes,
                authorized_from=input.authorized_from,
                authorized_until=given(input.authorized_until),
                changed_by_client_id=principal.client_pk,
            )
    except RuleViolation as violation:
        return CenterPayload(center=None, user_errors=[user_error(violation)])
    async with info.context.sessionmaker() as session:
        (center,) = await _centers(info, session, [authorized.center_id])
    return CenterPayload(center=center, user_errors=[])


async def _change(
    info: Info, input: CenterAuthorizationActionInput, action: AuthorizationAction
) -> CenterAuthorizationPayload:
    principal = info.context.require_principal()
    try:
        async with info.context.sessionmaker.begin() as session:
            changed = await db_centers.change_authorization(
                session,
                action,
                site_code=input.site_code,
                program_code=input.program_code,
                reason=input.reason,
                effective_at=given(input.effective_at),
                changed_by_client_id=principal.client_pk,
            )
    except RuleViolation as violation:
        return CenterAuthorizationPayload(
            center=None, authorization=None, user_errors=[user_error(violation)]
        )
    async with info.context.sessionmaker() as session:
        (center,) = await _centers(info, session, [changed.center_id])
        periods = await authorizations_of_centers(
            session,
            [changed.center_id],
            day=today(),
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
        )
    (authorization,) = (
        record for record in periods[changed.center_id] if record.id == changed.authorization_id
    )
    return CenterAuthorizationPayload(
        center=center,
        authorization=CenterAuthorization.from_record(authorization),
        user_errors=[],
    )


async def suspend_center_authorization(
    info: Info, input: CenterAuthorizationActionInput
) -> CenterAuthorizationPayload:
    return await _change(info, input, "suspend")


async def reinstate_center_authorization(
    info: Info, input: CenterAuthorizationActionInput
) -> CenterAuthorizationPayload:
    return await _change(info, input, "reinstate")


async def withdraw_center_authorization(
    info: Info, input: CenterAuthorizationActionInput
) -> CenterAuthorizationPayload:
    return await _change(info, input, "withdraw")


# --- instructors and proctors -------------------------------------------------------------


def _no_center(site_code: str, *field: str) -> RuleViolation:
    return RuleViolation(
        "NOT_FOUND", f"no center with site code {site_code.strip()!r}", field=field
    )


async def _center_ids(session: AsyncSession, site_codes: Sequence[str]) -> list[int]:
    ids = await db_centers.center_ids_by_site_code(session, site_codes)
    for index, (site_code, pk) in enumerate(zip(site_codes, ids, strict=True)):
        if pk is None:
            raise _no_center(site_code, "center_site_codes", str(index))
    return [pk for pk in ids if pk is not None]


async def register_instructor(
    info: Info, input: RegisterInstructorInput
) -> RegisterInstructorPayload:
    grants = [
        ModuleGrant(
            module_code=grant.module_code.strip().upper(),
            authorized_from=grant.authorized_from,
            authorized_until=given(grant.authorized_until),
        )
        for grant in input.module_grants
    ]
    try:
        async with info.context.sessionmaker.begin() as session:
            center_ids = await _center_ids(session, input.center_site_codes)
            instructor = await register_instructor_record(
                session,
                given_name=input.given_name,
                family_name=input.family_name,
                email=input.email,
                phone=given(input.phone),
                contact_opt_in=input.contact_opt_in,
                grants=grants,
                center_ids=center_ids,
            )
            record = await instructor_record(session, instructor.id)
            assert record is not None
            centers = await _centers(info, session, record.center_ids)
    except RuleViolation as violation:
        return RegisterInstructorPayload(
            instructor=None,
            module_grants=[],
            centers=[],
            user_errors=[user_error(violation, {"grants": "module_grants"})],
        )
    catalog = await info.context.catalog_today()
    return RegisterInstructorPayload(
        instructor=Instructor.from_public(record.public(today()), catalog),
        module_grants=[
            InstructorModuleGrant(
                module=Module.from_spec(spec),
                authorized_from=grant.authorized_from,
                authorized_until=grant.authorized_until,
            )
            for grant in record.grants
            if (spec := catalog.module_by_id(grant.module_id)) is not None
        ],
        centers=centers,
        user_errors=[],
    )


async def register_proctor(info: Info, input: RegisterProctorInput) -> RegisterProctorPayload:
    try:
        async with info.context.sessionmaker.begin() as session:
            center = await db_centers.center_by_site_code(session, input.center_site_code.strip())
            if center is None:
                raise _no_center(input.center_site_code, "center_site_code")
            proctor = await register_proctor_record(
                session,
                center_id=center.id,
                given_name=input.given_name,
                family_name=input.family_name,
                email=input.email,
                role=input.role,
            )
    except RuleViolation as violation:
        return RegisterProctorPayload(proctor=None, user_errors=[user_error(violation)])
    return RegisterProctorPayload(proctor=Proctor.from_model(proctor), user_errors=[])
