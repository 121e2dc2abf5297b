"""The analyst reads the tele-expertise response times from her home page, on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from maillage.expertise.tests.test_figures import spread  # noqa: F401 (a fixture)
from maillage.messaging.tests.conftest import fr
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    assert_light,
    check_accessibility,
    confirmed_device,
    measure_transfer,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_the_analyst_reads_the_response_times_on_a_phone(
    page: Page,
    personas: Any,
    spread: Any,  # noqa: F811
    live_url: str,
) -> None:
    sign_in(page, "analyste", f.PASSWORD, totp_key=confirmed_device(personas.analyst))
    with measure_transfer(page) as transfer:
        page.get_by_role("link", name=fr("Tele-expertise response times")).first.click()
        expect(
            page.get_by_role("heading", name=fr("Tele-expertise response times"), level=1)
        ).to_be_visible()
    assert_light(transfer)
    expect(page.get_by_role("heading", name=fr("By specialty"))).to_be_visible()
    expect(page.get_by_text(spread.pool.name)).to_be_visible()
    # The three cardiology requests: counted as fewer than 11, no figure.
    expect(page.get_by_role("cell", name="< 11").first).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "expertise-figures-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "expertise-figures-wide")


def test_a_gp_finds_her_acts_to_bill_from_her_home_page(
    page: Page, personas: Any, live_url: str
) -> None:
    doctor = personas.treating_doctor.user
    sign_in(page, "medecin.traitant", f.PASSWORD, totp_key=confirmed_device(doctor))
    with measure_transfer(page) as transfer:
        page.get_by_role("link", name=fr("Tele-expertise acts to bill")).first.click()
        expect(
            page.get_by_role("heading", name=fr("Tele-expertise acts to bill"), level=1)
        ).to_be_visible()
    assert_light(transfer)
    with page.expect_download() as download:
        page.get_by_role("link", name="(CSV)").first.click()
    assert download.value.suggested_filename.startswith("teleexpertise-actes-")
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "expertise-billing-phone")
