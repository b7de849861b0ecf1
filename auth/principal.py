"""Who is calling: built once per request from a verified access token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    client_pk: int
    organization_id: int
    organization_kind: str  # STAFF | SCHOOL | EMPLOYER
    scopes: frozenset[str]
    token_id: str

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_staff(self) -> bool:
        return self.organization_kind == "STAFF"
