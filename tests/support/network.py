"""Building centers for tests, and independent spherical geometry to check the locator with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.network.centers import CenterDetails, authorize_center


def gaussian_radius_km(latitude: float) -> float:
    """sqrt(M·N) of WGS84 at ``latitude``; restated here, not imported, to check the code."""
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)
    return a * math.sqrt(1 - e2) / (1 - e2 * math.sin(math.radians(latitude)) ** 2)


def today() -> date:
    return datetime.now(UTC).date()


def days(n: int) -> date:
    return today() + timedelta(days=n)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the sphere the locator uses for a search from (lat1, lon1)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * gaussian_radius_km(lat1) * math.asin(math.sqrt(a))


def destination(lat: float, lon: float, *, bearing: float, km: float) -> tuple[float, float]:
    """The point ``km`` away (on the search's sphere) leaving at ``bearing`` degrees from north."""
    delta, theta = km / gaussian_radius_km(lat), math.radians(bearing)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180


async def add_center(
    sessionmaker: async_sessionmaker[AsyncSession],
    site_code: str,
    *,
    at: tuple[float, float] | None = None,
    postal_code: str | None = None,
    programs: Sequence[str] = ("CPT",),
    authorized_from: date | None = None,
    authorized_until: date | None = None,
    name: str | None = None,
    state: str | None = None,
    kind: str = "COLLEGE",
    country: str = "US",
) -> int:
    """An authorized center (from a year ago, open-ended unless told otherwise); its id."""
    details = CenterDetails(
        site_code=site_code,
        name=name or f"Center {site_code}",
        kind=kind,
        state=state,
        postal_code=postal_code,
        country=country,
        latitude=at[0] if at else None,
        longitude=at[1] if at else None,
    )
    async with sessionmaker.begin() as session:
        result = await authorize_center(
            session,
            details,
            program_codes=programs,
            authorized_from=authorized_from or days(-365),
            authorized_until=authorized_until,
        )
    return result.center_id
