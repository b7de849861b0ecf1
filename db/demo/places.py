"""Where demo centers stand: real places only, never invented coordinates.

US centers sit at ZIP code locations from the ``zipcodes`` package (the same offline dataset
the locator geocodes with). Centers abroad sit at the downtown coordinates of real cities,
hard-coded below: WGS84 degrees to four decimals, as commonly published for each city centre
(for instance Toronto 43.6532° N, 79.3832° W), each within a few kilometres of the city's
coordinates in its Wikipedia infobox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zipcodes

US_STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
LEFT_OUT_STATE = "HI"
"""The network spans 49 states and DC (seed 000); the demo leaves out Hawaii."""

JURISDICTIONS = tuple(sorted((set(US_STATES) - {LEFT_OUT_STATE}) | {"DC"}))


@dataclass(frozen=True, slots=True)
class ZipPlace:
    zip_code: str
    city: str
    state: str
    county: str
    latitude: float
    longitude: float
    area_code: str | None


@dataclass(frozen=True, slots=True)
class City:
    name: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float


CITIES_ABROAD = (
    City("Toronto", "CA", 43.6532, -79.3832),
    City("Calgary", "CA", 51.0447, -114.0719),
    City("Mexico City", "MX", 19.4326, -99.1332),
    City("Monterrey", "MX", 25.6866, -100.3161),
    City("London", "GB", 51.5074, -0.1278),
    City("Riyadh", "SA", 24.7136, 46.6753),
    City("Singapore", "SG", 1.3521, 103.8198),
    City("Seoul", "KR", 37.5665, 126.9780),
)

_list_all: Callable[[], list[dict[str, Any]]] = zipcodes.list_all


def zip_places() -> dict[str, list[ZipPlace]]:
    """Standard, active ZIP codes with a known location, by jurisdiction, in ZIP order."""
    places: dict[str, list[ZipPlace]] = {state: [] for state in JURISDICTIONS}
    for record in sorted(_list_all(), key=lambda r: str(r["zip_code"])):
        state = str(record["state"])
        latitude, longitude = float(record["lat"]), float(record["long"])
        if (
            state not in places
            or record["zip_code_type"] != "STANDARD"
            or not record["active"]
            or (latitude == 0.0 and longitude == 0.0)
        ):
            continue
        area_codes = record.get("area_codes") or []
        places[state].append(
            ZipPlace(
                zip_code=str(record["zip_code"]),
                city=str(record["city"]),
                state=state,
                county=str(record.get("county") or ""),
                latitude=latitude,
                longitude=longitude,
                area_code=str(area_codes[0]) if area_codes else None,
            )
        )
    return places
