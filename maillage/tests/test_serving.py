"""A serving process settles once loaded: its views imported, what it loaded frozen.

See maillage.serving.
"""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from maillage.serving import settle_process


@pytest.fixture
def settled() -> Iterator[None]:
    # Nothing frozen before (an earlier test may have imported maillage.asgi).
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    settle_process()
    yield
    # The test process goes on as it was: its objects back under the collector.
    gc.unfreeze()


def test_what_was_loaded_leaves_the_collector_and_the_views_are_imported(settled) -> None:
    assert gc.get_freeze_count() > 10_000
    # The URL conf imported the views, which a first request would otherwise import.
    assert "maillage.fhir.views" in sys.modules
    assert "maillage.directory.views" in sys.modules


def test_cycles_made_after_settling_are_still_collected(settled) -> None:
    class Node:
        other: Node

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b

    gc.collect()

    assert gone() is None
