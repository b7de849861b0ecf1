"""``oneRosterMappings`` and ``setOneRosterMapping``: each organization's own, in the SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from strawberry.utils.str_converters import to_camel_case

from api.context import Info
from api.schema.imports.one_roster import (
    OneRosterMapping,
    SetOneRosterMappingInput,
    SetOneRosterMappingPayload,
)
from api.schema.user_error import UserError
from db.errors import RuleViolation
from db.imports.oneroster.mappings import MappingRequest, list_mappings, set_mapping


async def one_roster_mappings(info: Info) -> list[OneRosterMapping]:
    principal = info.context.require_principal()
    catalog = await info.context.resources.catalog.on(datetime.now(UTC).date())
    async with info.context.sessionmaker() as session:
        kept = await list_mappings(session, organization_id=principal.organization_id)
    mappings = [OneRosterMapping.from_model(m) for m in kept]
    courses_kept = {m.sourced_id for m in kept if m.kind == "COURSE"}
    if catalog is not None:
        mappings += [
            OneRosterMapping.suggestion(code, modules[0])
            for code, modules in sorted(catalog.courses.items())
            if len(modules) == 1 and code not in courses_kept
        ]
    return mappings


async def set_one_roster_mapping(
    info: Info, input: SetOneRosterMappingInput
) -> SetOneRosterMappingPayload:
    principal = info.context.require_principal()
    catalog = await info.context.resources.catalog.on(datetime.now(UTC).date())
    request = MappingRequest(
        kind=input.kind.name,
        sourced_id=input.sourced_id,
        title_pattern=input.title_pattern,
        module_code=input.module_code,
        center_site_code=input.center_site_code,
    )
    try:
        async with info.context.sessionmaker.begin() as session:
            mapping = await set_mapping(
                session,
                organization_id=principal.organization_id,
                request=request,
                catalog=catalog,
            )
    except RuleViolation as violation:
        error = UserError(
            code=violation.code,
            field=[to_camel_case(part) for part in violation.field],
            message=violation.message,
        )
        return SetOneRosterMappingPayload(mapping=None, user_errors=[error])
    return SetOneRosterMappingPayload(mapping=OneRosterMapping.from_model(mapping), user_errors=[])
