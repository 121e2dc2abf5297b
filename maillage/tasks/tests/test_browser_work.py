"""An administrator finds the background work page from her home page and sees a failed task."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from maillage.tasks.tests.conftest import DATABASE_BACKEND
from maillage.tasks.tests.jobs import broken_task
from maillage.testing.browser import (
    PHONE,
    TABLET,
    assert_fits,
    assert_light,
    check_accessibility,
    confirmed_device,
    measure_transfer,
    sign_in,
)
from maillage.testing.factories import PASSWORD

# Also on PostgreSQL: there the work goes through RQ on Redis (CI), a path of its own.
pytestmark = [pytest.mark.browser, pytest.mark.postgresql_too]


def test_the_administrator_sees_the_failed_task(page: Page, personas, settings) -> None:
    settings.TASKS = DATABASE_BACKEND
    broken_task.enqueue()
    call_command("run_worker", "--batch")
    key = confirmed_device(personas.admin)
    sign_in(page, "admin", PASSWORD, totp_key=key)

    with measure_transfer(page) as transfer:
        page.get_by_role("link", name="Travail en arrière-plan").first.click()
    assert_light(transfer)
    expect(page.get_by_role("heading", name="Travail en arrière-plan", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Travail par état")).to_be_visible()
    failed = page.get_by_role("listitem").filter(has_text="broken_task")
    expect(failed).to_contain_text("RuntimeError")
    check_accessibility(page)
    for viewport in (PHONE, TABLET):
        assert_fits(page, viewport)
    check_accessibility(page)
