"""Great-circle geometry for the territory, without Django."""

from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


class GeoPoint(NamedTuple):
    latitude: float
    longitude: float


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class BoundingBox(NamedTuple):
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(center: GeoPoint, radius_km: float) -> BoundingBox:
    """A box that contains every point within ``radius_km`` of ``center``.

    Used as an indexed pre-filter before the exact distance; generous at the
    corners, never too small (we stay far from the poles).
    """
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = radius_km / (KM_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(center.latitude))))
    return BoundingBox(
        center.latitude - dlat,
        center.latitude + dlat,
        center.longitude - dlon,
        center.longitude + dlon,
    )
