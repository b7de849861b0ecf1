"""The OAuth scopes: the single source of truth for every scope name the registry knows."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    CANDIDATES_READ = "candidates:read"
    CANDIDATES_WRITE = "candidates:write"
    RESULTS_READ = "results:read"
    RESULTS_WRITE = "results:write"
    CREDENTIALS_VERIFY = "credentials:verify"
    DIAGNOSTICS_READ = "diagnostics:read"
    STATS_READ = "stats:read"
    REGISTRY_ADMIN = "registry:admin"


ALL_SCOPES: tuple[Scope, ...] = tuple(Scope)

# What each kind of organization usually needs; a client may be given fewer.
TYPICAL_SCOPES: dict[str, tuple[Scope, ...]] = {
    "SCHOOL": (
        Scope.CANDIDATES_READ,
        Scope.CANDIDATES_WRITE,
        Scope.RESULTS_READ,
        Scope.RESULTS_WRITE,
    ),
    "EMPLOYER": (Scope.CREDENTIALS_VERIFY, Scope.DIAGNOSTICS_READ),
    "STAFF": ALL_SCOPES,
}

# The kinds of organization that may hold a scope, where not every kind may. Administration
# reaches every organization's rows, so only staff may ever hold it. The diagnostic tool is the
# employers' (and staff's): a school follows its own candidates through their results.
SCOPE_HOLDERS: dict[Scope, tuple[str, ...]] = {
    Scope.REGISTRY_ADMIN: ("STAFF",),
    Scope.DIAGNOSTICS_READ: ("EMPLOYER", "STAFF"),
}


# OneRoster 1.2's gradebook scopes, as an unmodified OneRoster client asks the token endpoint
# for them: each is granted as the registry's scope it maps onto, to a client that holds that
# scope. (The registry keeps no rosters and deletes no results: the other OneRoster scopes stay
# unknown here.)
ONEROSTER_SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ONEROSTER_SCOPES: dict[str, Scope] = {
    ONEROSTER_SCOPE_PREFIX + "gradebook.createput": Scope.RESULTS_WRITE,
    ONEROSTER_SCOPE_PREFIX + "gradebook.readonly": Scope.RESULTS_READ,
}


def registry_names(requested: str) -> str:
    """A requested ``scope`` with OneRoster's names in the registry's (any other name as it
    is, for the token endpoint to judge)."""
    names = [ONEROSTER_SCOPES.get(name, name) for name in requested.split()]
    return " ".join(dict.fromkeys(names))


class UnknownScopeError(ValueError):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        hint = " (give each scope on its own, not a comma-separated list)"
        message = f"unknown scope(s): {', '.join(self.names)}"
        super().__init__(message + hint if has_commas(self.names) else message)


def has_commas(names: Iterable[str]) -> bool:
    """Scope names run together with commas: an unknown-scope message says how to list them."""
    return any("," in name for name in names)


def parse_scopes(names: Iterable[str]) -> tuple[Scope, ...]:
    """Known scopes in canonical order, without duplicates; raise on any unknown name."""
    wanted = set(names)
    unknown = sorted(wanted - {scope.value for scope in Scope})
    if unknown:
        raise UnknownScopeError(unknown)
    return tuple(scope for scope in Scope if scope.value in wanted)


def format_scopes(scopes: Iterable[str]) -> str:
    """The space-separated ``scope`` string of RFC 6749 §3.3, in canonical order."""
    wanted = set(scopes)
    return " ".join(scope.value for scope in Scope if scope.value in wanted)
