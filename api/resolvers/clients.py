"""Staff mutations over OAuth clients; the rules live in ``auth.clients``."""

from __future__ import annotations

from api.context import Info
from api.schema.organization import (
    CreateClientInput,
    CreateClientPayload,
    DisableClientInput,
    DisableClientPayload,
    OAuthClient,
    RotateClientSecretInput,
    RotateClientSecretPayload,
)
from api.schema.user_error import UserError
from auth import clients
from auth.clients import ClientError

# auth.clients names fields in Python; the contract reports GraphQL input paths.
_INPUT_FIELDS = {
    "organization_name": "organizationName",
    "organization_kind": "organizationKind",
    "scopes": "scopes",
    "site_codes": "siteCodes",
    "client_id": "clientId",
}


def user_error(error: ClientError) -> UserError:
    field = None if error.field is None else [_INPUT_FIELDS.get(error.field, error.field)]
    return UserError(code=error.code, field=field, message=error.message)


async def create_client(info: Info, input: CreateClientInput) -> CreateClientPayload:
    try:
        async with info.context.sessionmaker.begin() as session:
            issued = await clients.create_client(
                session,
                organization_name=input.organization_name,
                organization_kind=input.organization_kind,
                scopes=input.scopes,
                site_codes=input.site_codes,
            )
            summary = await clients.find_client(session, issued.client_id)
    except ClientError as error:
        return CreateClientPayload(client=None, client_secret=None, user_errors=[user_error(error)])
    assert summary is not None
    return CreateClientPayload(
        client=OAuthClient.from_summary(summary),
        client_secret=issued.client_secret,
        user_errors=[],
    )


async def rotate_client_secret(
    info: Info, input: RotateClientSecretInput
) -> RotateClientSecretPayload:
    try:
        async with info.context.sessionmaker.begin() as session:
            issued = await clients.rotate_secret(session, input.client_id)
            summary = await clients.find_client(session, input.client_id)
    except ClientError as error:
        return RotateClientSecretPayload(
            client=None, client_secret=None, user_errors=[user_error(error)]
        )
    assert summary is not None
    return RotateClientSecretPayload(
        client=OAuthClient.from_summary(summary),
        client_secret=issued.client_secret,
        user_errors=[],
    )


async def disable_client(info: Info, input: DisableClientInput) -> DisableClientPayload:
    try:
        async with info.context.sessionmaker.begin() as session:
            summary = await clients.disable_client(session, input.client_id)
    except ClientError as error:
        return DisableClientPayload(client=None, user_errors=[user_error(error)])
    await info.context.resources.auth.client_disabled(summary.client_id)
    return DisableClientPayload(client=OAuthClient.from_summary(summary), user_errors=[])
