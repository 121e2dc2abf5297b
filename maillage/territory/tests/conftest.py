"""Communes come by migration; a transactional test run earlier by the same
worker empties every table, so database tests here put them back first (with
the migration's own loader)."""

from __future__ import annotations

import pytest

from maillage.testing.factories import ensure_communes


@pytest.fixture(autouse=True)
def _communes_loaded(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("db")
        ensure_communes()
