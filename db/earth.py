"""Great-circle geometry on PostgreSQL's contrib ``cube`` + ``earthdistance``.

``ll_to_earth(lat, lon)`` places a point on a sphere of radius ``earth()`` (6,378,168 m, the
equatorial radius) as a 3-D ``cube`` point. Two facts make the locator fast and exact:

- the straight-line (chord) distance between two such points, ``a <-> b``, grows strictly with
  their great-circle distance, so ordering and radius tests can use the chord, which the GiST
  index answers, and the arc is computed only for the rows returned;
- an arc on that sphere divided by ``earth()`` is the central angle, which we scale by the
  *mean* Earth radius: the spherical model closest to the WGS84 ellipsoid (within 0.5% for
  any two points, typically under 0.2%).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, func
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.sql.functions import Function
from sqlalchemy.types import UserDefinedType

MEAN_EARTH_RADIUS_KM = 6371.0088
"""IUGG mean radius R1 = (2a + b) / 3 of the WGS84 ellipsoid."""


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


def central_angle(distance_km: float) -> float:
    """The angle, in radians, that a great-circle distance spans on the mean sphere."""
    return distance_km / MEAN_EARTH_RADIUS_KM


def arc_km(angle: float) -> float:
    return angle * MEAN_EARTH_RADIUS_KM
