"""Field permissions: a valid token, and the scope the field needs.

A missing token answers ``UNAUTHENTICATED``; a token without the scope answers ``FORBIDDEN``.
Which *rows* a caller may see is not decided here but inside the SQL (``db/access.py``).
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from api.context import Info
from api.errors import Forbidden, missing_token
from auth.principal import Principal
from auth.scopes import Scope


class IsAuthenticated(BasePermission):
    message = "An access token is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.principal is None:
            raise missing_token(info.context.request.state)
        return True


class HasScope(BasePermission):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.message = f"This field needs the scope {scope.value}"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise missing_token(info.context.request.state)
        return principal.has_scope(self.scope)

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message or "Forbidden", scope=self.scope.value)


def can_read_candidates(principal: Principal) -> bool:
    """Candidate records need candidates:read, or for an employer diagnostics:read; the rows
    are then limited in SQL to candidates who consented to that employer."""
    return principal.has_scope(Scope.CANDIDATES_READ) or (
        principal.organization_kind == "EMPLOYER" and principal.has_scope(Scope.DIAGNOSTICS_READ)
    )


def can_read_results(principal: Principal) -> bool:
    """An assessment result by itself: results:read, or whatever reads the candidate's
    record (the contract lets candidates:read read a candidate's results). Rows are limited
    in SQL to the candidates the caller may see either way."""
    return principal.has_scope(Scope.RESULTS_READ) or can_read_candidates(principal)


class CanReadCandidates(BasePermission):
    message = f"This field needs the scope {Scope.CANDIDATES_READ.value}"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise missing_token(info.context.request.state)
        return can_read_candidates(principal)

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message, scope=Scope.CANDIDATES_READ.value)


def authenticated() -> list[FieldExtension]:
    """Field extensions for a field any valid token may read."""
    return [PermissionExtension([IsAuthenticated()], use_directives=False)]


def reads_candidates() -> list[FieldExtension]:
    """Field extensions for fields that read candidate records."""
    return [PermissionExtension([CanReadCandidates()], use_directives=False)]


def requires(scope: Scope) -> list[FieldExtension]:
    """Field extensions for a field that needs ``scope``."""
    return [PermissionExtension([HasScope(scope)], use_directives=False)]
