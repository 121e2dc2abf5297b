"""The demo territory's tests."""

import pytest

# The demo's scenes (each loads the whole territory, 8 to 10 s) are read once, on
# SQLite: what they build is made by actions whose own tests run on both
# databases, and test_load_demo* still load the demo on PostgreSQL.
DEMO_ON_SQLITE = pytest.mark.sqlite_only("the demo's scenes, once, on SQLite")
