"""The locator's arguments: checked into a :class:`~db.network.locator.CenterSearch`, and its
cursors.

Every rejection is a ``BAD_USER_INPUT`` error naming the argument and saying what would be
accepted. A cursor carries the search's fingerprint, so a cursor from one search is refused
by another instead of silently paging through the wrong list.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date

from api.errors import BadUserInput
from api.resolvers.arguments import page_size
from api.schema.network.centers import GeoPointInput
from api.schema.opaque import decode_opaque, encode_opaque
from db.catalog.versions import CatalogSnapshot
from db.network.geocode import ZipCodeError, locate_zip
from db.network.locator import MAX_RADIUS_KM, CenterSearch, Keyset
from db.platform.identifiers import parse_key

DEFAULT_RADIUS_KM = 80.0
DEFAULT_PAGE_SIZE = 20
MAX_NAME_LENGTH = 100

_STATE = re.compile(r"^[A-Za-z]{2}$")
_CURSOR_VERSION = "c1"


def _bad(argument: str, message: str) -> BadUserInput:
    return BadUserInput(message, argument=argument)


def _origin(near: GeoPointInput | None, postal_code: str | None) -> tuple[float, float]:
    if near is not None and postal_code is not None:
        raise _bad("near", "Give either near or postalCode, not both.")
    if near is not None:
        latitude, longitude = near.latitude, near.longitude
        if not (math.isfinite(latitude) and -90 <= latitude <= 90):
            raise _bad("near", f"near.latitude must be between -90 and 90 (got {latitude}).")
        if not (math.isfinite(longitude) and -180 <= longitude <= 180):
            raise _bad("near", f"near.longitude must be between -180 and 180 (got {longitude}).")
        return latitude, longitude
    if postal_code is not None:
        try:
            location = locate_zip(postal_code)
        except ZipCodeError as error:
            raise _bad("postalCode", f"postalCode: {error}.") from None
        return location.latitude, location.longitude
    raise _bad("near", "Give near (latitude and longitude) or a US postalCode to search from.")


def _radius(within_km: float | None) -> float:
    if within_km is None:
        return DEFAULT_RADIUS_KM
    if not math.isfinite(within_km) or within_km <= 0:
        raise _bad("withinKm", f"withinKm must be greater than 0 (got {within_km}).")
    if within_km > MAX_RADIUS_KM:
        raise _bad(
            "withinKm", f"withinKm must be at most {MAX_RADIUS_KM:,.0f} km (got {within_km})."
        )
    return within_km


def _program_id(
    catalog: CatalogSnapshot, program_code: str | None, module_code: str | None
) -> int | None:
    program = None
    if program_code is not None:
        program = catalog.program_by_code(program_code.strip().upper())
        if program is None:
            known = ", ".join(p.code for p in catalog.programs)
            raise _bad(
                "programCode", f"Unknown programCode {program_code!r}; known codes: {known}."
            )
    if module_code is None:
        return None if program is None else program.id
    module = catalog.module_by_code(module_code.strip().upper())
    if module is None:
        known = ", ".join(m.code for m in catalog.modules)
        raise _bad("moduleCode", f"Unknown moduleCode {module_code!r}; known codes: {known}.")
    if program is not None and module.program.id != program.id:
        raise _bad(
            "moduleCode",
            f"moduleCode {module.code} belongs to program {module.program.code}, "
            f"not {program.code}.",
        )
    return module.program.id


def _state(state: str | None) -> str | None:
    if state is None:
        return None
    if not _STATE.match(state.strip()):
        raise _bad("state", f"state must be a two-letter code such as OH (got {state!r}).")
    return state.strip().upper()


def _name(name_contains: str | None) -> str | None:
    if name_contains is None:
        return None
    name = name_contains.strip()
    if not name:
        raise _bad("nameContains", "nameContains must not be blank.")
    if len(name) > MAX_NAME_LENGTH:
        raise _bad(
            "nameContains", f"nameContains must be at most {MAX_NAME_LENGTH} characters long."
        )
    return name


def center_search(
    *,
    catalog: CatalogSnapshot,
    day: date,
    near: GeoPointInput | None,
    postal_code: str | None,
    within_km: float | None,
    program_code: str | None,
    module_code: str | None,
    state: str | None,
    name_contains: str | None,
) -> CenterSearch:
    latitude, longitude = _origin(near, postal_code)
    return CenterSearch(
        latitude=latitude,
        longitude=longitude,
        within_km=_radius(within_km),
        day=day,
        program_id=_program_id(catalog, program_code, module_code),
        state=_state(state),
        name_contains=_name(name_contains),
    )


def locator_page_size(first: int | None) -> int:
    return DEFAULT_PAGE_SIZE if first is None else page_size(first)


# --- cursors -------------------------------------------------------------------------------


def _fingerprint(search: CenterSearch) -> str:
    # The day is left out on purpose: a page fetched just after midnight continues the list.
    key = "|".join(
        repr(part)
        for part in (
            search.latitude,
            search.longitude,
            search.within_km,
            search.program_id,
            search.state,
            search.name_contains,
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def encode_cursor(search: CenterSearch, keyset: Keyset) -> str:
    # repr() of a float round-trips exactly, so the next page starts exactly after this row.
    raw = f"{_CURSOR_VERSION}:{_fingerprint(search)}:{keyset.chord!r}:{keyset.center_id}"
    return encode_opaque(raw.encode())


def decode_cursor(search: CenterSearch, cursor: str) -> Keyset:
    malformed = _bad("after", "after is not a cursor returned by centers; omit it to start over.")
    raw = decode_opaque(cursor)
    parts = raw.decode("ascii").split(":") if raw is not None and raw.isascii() else []
    if len(parts) != 4 or parts[0] != _CURSOR_VERSION:
        raise malformed
    _, fingerprint, chord_text, id_text = parts
    center_id = parse_key(id_text)
    try:
        chord = float(chord_text)
    except ValueError:
        raise malformed from None
    if center_id is None or not (math.isfinite(chord) and chord >= 0) or repr(chord) != chord_text:
        raise malformed
    if fingerprint != _fingerprint(search):
        raise _bad(
            "after",
            "after belongs to a different search; ask again without after, or repeat the "
            "search's other arguments unchanged.",
        )
    return Keyset(chord=chord, center_id=center_id)
