"""Distances between places, behind a small provider interface.

The default estimates road distance as the great-circle distance times a road
factor (1.3 unless MAILLAGE_ROAD_FACTOR says otherwise). A routing engine
(OSRM's table API, for instance) can replace it by naming another class in
MAILLAGE_DISTANCE_PROVIDER; it must never return less than the straight line,
since searches pre-filter on a bounding box of the radius.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from maillage.lib.geo import GeoPoint, haversine_km


class DistanceProvider(Protocol):
    def distance_km(self, origin: GeoPoint, destination: GeoPoint) -> float: ...

    def matrix_km(
        self, origins: Sequence[GeoPoint], destinations: Sequence[GeoPoint]
    ) -> list[list[float]]: ...


class HaversineProvider:
    """Straight-line distance times a road factor."""

    def __init__(self, road_factor: float | None = None) -> None:
        factor = settings.MAILLAGE_ROAD_FACTOR if road_factor is None else road_factor
        if factor < 1:
            raise ValueError("a road is never shorter than the straight line")
        self.road_factor = factor

    def distance_km(self, origin: GeoPoint, destination: GeoPoint) -> float:
        return haversine_km(origin, destination) * self.road_factor

    def matrix_km(
        self, origins: Sequence[GeoPoint], destinations: Sequence[GeoPoint]
    ) -> list[list[float]]:
        return [[self.distance_km(o, d) for d in destinations] for o in origins]


@cache
def _provider(path: str, road_factor: float) -> DistanceProvider:
    # road_factor is part of the key so that a changed setting takes effect.
    provider: DistanceProvider = import_string(path)()
    return provider


def get_distance_provider() -> DistanceProvider:
    return _provider(settings.MAILLAGE_DISTANCE_PROVIDER, settings.MAILLAGE_ROAD_FACTOR)
