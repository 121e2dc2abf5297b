from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from maillage.testing import netlab


@pytest.fixture
def line(tmp_path: Path) -> Iterator[netlab.Line]:
    """The patient's line; the test skips, saying why, where a machine cannot build one."""
    reason = netlab.unavailable()
    if reason is not None:
        pytest.skip(f"weak-line part skipped: {reason}")
    with netlab.village_line(tmp_path) as built:
        yield built
