from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maillage.testing import netlab


@pytest.fixture(autouse=True)
def one_process_layer(settings: Any) -> None:
    """The in-memory channel layer, made afresh for each test.

    These tests start uvicorn servers of their own (the veth's address, a
    call page): each runs its own event loop, and a Redis channel layer
    shared by the process refuses to receive on a second loop ("Two event
    loops are trying to receive() on one channel layer at once", seen in CI,
    where REDIS_URL is set). Redis's path is proven by maillage/realtime.
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def line(tmp_path: Path) -> Iterator[netlab.Line]:
    """The patient's line; the test skips, saying why, where a machine cannot build one."""
    reason = netlab.unavailable()
    if reason is not None:
        pytest.skip(f"weak-line part skipped: {reason}")
    with netlab.village_line(tmp_path) as built:
        yield built
