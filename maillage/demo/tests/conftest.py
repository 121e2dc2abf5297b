from __future__ import annotations

import pytest

from maillage.testing.factories import ensure_communes, ensure_habilitations


@pytest.fixture(autouse=True)
def reference_data(db: None) -> None:
    """What migrations load; a transactional test run earlier on this worker empties it."""
    ensure_communes()
    ensure_habilitations()
