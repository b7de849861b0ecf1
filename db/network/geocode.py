"""US ZIP codes to coordinates, from the offline dataset of the ``zipcodes`` package.

The package answers from data compiled into its wheel: no network, no guessing. A ZIP it does
not know, or knows without a location (military and some special-purpose ZIPs are stored at
0, 0), is reported as such, never replaced by a nearby guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zipcodes

_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
# Both forms the pattern accepts: a message naming one sends ZIP+4 users astray.
_ZIP_FORMS = "write five digits such as 43215, or ZIP+4 such as 43215-1234"
_matching: Callable[[str], list[dict[str, Any]]] = zipcodes.matching


@dataclass(frozen=True, slots=True)
class ZipLocation:
    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float


class ZipCodeError(ValueError):
    """The message is meant for the person who typed the ZIP code."""


def normalize_zip(value: str) -> str:
    """The five-digit ZIP of ``12345`` or ``12345-6789``; :class:`ZipCodeError` otherwise."""
    match = _ZIP.match(value.strip())
    if match is None:
        raise ZipCodeError(f"{value!r} is not a US ZIP code; {_ZIP_FORMS}")
    return match.group(1)


def locate_zip(value: str) -> ZipLocation:
    zip_code = normalize_zip(value)
    # The format is checked above: the package's own parser accepts "123456" as "12345".
    found = _matching(zip_code)
    if not found:
        raise ZipCodeError(f"unknown US ZIP code {zip_code}")
    record = found[0]
    latitude, longitude = float(record["lat"]), float(record["long"])
    if latitude == 0.0 and longitude == 0.0:
        raise ZipCodeError(f"US ZIP code {zip_code} has no known location")
    return ZipLocation(
        zip_code=zip_code,
        city=str(record["city"]),
        state=str(record["state"]),
        latitude=latitude,
        longitude=longitude,
    )


def warm_up() -> None:
    """Load the package's tables now (about 0.3 s) rather than inside the first request."""
    _matching("10001")
