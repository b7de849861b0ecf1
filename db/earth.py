"""Great-circle geometry on PostgreSQL's contrib ``cube`` + ``earthdistance``.

``ll_to_earth(lat, lon)`` places a point on a sphere of radius ``earth()`` (6,378,168 m) as a
3-D ``cube`` point. Two facts make the locator fast and exact:

- the straight-line (chord) distance between two such points, ``a <-> b``, grows strictly with
  their great-circle distance, so ordering and radius tests use the chord, which the GiST
  index answers, and the arc is computed only for the rows returned;
- an arc on that sphere divided by ``earth()`` is the central angle. One search scales every
  angle by one radius: the Gaussian radius of curvature of the WGS84 ellipsoid at the search
  point's latitude. The sphere that fits the ellipsoid best around that point keeps distances
  within 0.35% of the true (geodesic) distance up to 1,000 km and within 0.5% up to 5,000 km,
  at any latitude, where the usual mean radius (6,371 km) is off by up to 0.56%. Being one
  constant per search, it never changes the nearest-first order.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float, func
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.sql.functions import Function
from sqlalchemy.types import UserDefinedType

WGS84_SEMI_MAJOR_AXIS_KM = 6378.137
WGS84_FLATTENING = 1 / 298.257223563
_E2 = WGS84_FLATTENING * (2 - WGS84_FLATTENING)  # first eccentricity squared


class Cube(UserDefinedType[Any]):
    """The contrib ``cube`` type. Only PostgreSQL reads these values; Python never loads them."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "cube"


# Reflection (Alembic's autogenerate comparison) must recognise the column's type.
ischema_names.setdefault("cube", Cube)


def earth_radius() -> Function[float]:
    """``earth()``: the radius of earthdistance's sphere, in meters."""
    return func.earth(type_=Float)


def local_radius_km(latitude: float) -> float:
    """The Gaussian radius of curvature sqrt(M·N) of the WGS84 ellipsoid at ``latitude``."""
    sin2 = math.sin(math.radians(latitude)) ** 2
    return WGS84_SEMI_MAJOR_AXIS_KM * math.sqrt(1 - _E2) / (1 - _E2 * sin2)
