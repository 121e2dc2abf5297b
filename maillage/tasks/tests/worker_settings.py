"""Settings of a worker process started by a test: the test's database, a test job.

The test hands over what its own process uses (the test database's name,
the audit and file keys) through the environment.
"""

import os

from maillage.settings import *  # noqa: F403
from maillage.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["MAILLAGE_WORKER_DB_NAME"]
DATABASES["default"].pop("TEST", None)
# The daily test job only for the tests that give it its file: other tests' workers
# (the tele-expertise deadlines) would otherwise run it when their run crosses
# midnight, and fail on the missing file.
MAILLAGE_PERIODIC_JOBS = (
    [("test_mark", 24 * 60, "maillage.tasks.tests.jobs.mark")]
    if "MAILLAGE_TEST_MARK_FILE" in os.environ
    else []
)
