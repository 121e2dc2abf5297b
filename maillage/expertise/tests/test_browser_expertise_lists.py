"""The lists about colleagues' requests in a browser: a pool member sees a request taken by a
colleague (never its patient), and the pool's coordinator reads the late list; each page passes
axe-core, fits a phone and stays light."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from maillage.expertise import actions
from maillage.expertise.models import Request
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


def _ask(personas: Any, dermatology: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Plaque érythémato-squameuse du coude.",
            priority="urgent",
            pool_uuid=dermatology.pool.uuid,
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


def test_taken_and_late_requests_show_no_patient(
    page: Page, personas: Any, dermatology: Any, live_url: str
) -> None:
    taken = _ask(personas, dermatology)
    late = _ask(personas, dermatology)
    actions.claim(dermatology.first.user, taken.uuid)
    Request.objects.filter(pk=late.pk).update(
        due_at=late.due_at - dt.timedelta(hours=30)  # type: ignore[operator]
    )
    name = personas.patient.display_name

    sign_in(page, "dermato.deux", f.PASSWORD, totp_key=confirmed_device(dermatology.second.user))
    with measure_transfer(page) as transfer:
        page.goto("/teleexpertise/file/")
        expect(page.get_by_role("heading", name=fr("Taken by a colleague"))).to_be_visible()
    assert_light(transfer)
    row = page.get_by_role("row").filter(has_text=str(taken.uuid)[:8])
    expect(row).to_contain_text("Dr Lucie Bernard")
    expect(row).not_to_contain_text(name)
    # The late one is still his to take, flagged.
    waiting = page.get_by_role("listitem").filter(has_text=name)
    expect(waiting.get_by_text(fr("late"), exact=True)).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "expertise-queue-taken-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    response = page.goto(f"/teleexpertise/{taken.uuid}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name=fr("Taken by a colleague"))).to_be_visible()
    expect(page.get_by_text(name)).to_have_count(0)
    check_accessibility(page)
    assert_fits(page, PHONE)

    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(base_url=live_url, locale="fr-FR", timezone_id="Europe/Paris")
    coordinator = context.new_page()
    sign_in(
        coordinator,
        "dermato.coord",
        f.PASSWORD,
        totp_key=confirmed_device(dermatology.coordinator.user),
    )
    with measure_transfer(coordinator) as transfer:
        coordinator.goto("/teleexpertise/retards/")
        expect(
            coordinator.get_by_role("heading", name=fr("Late requests of my pools"))
        ).to_be_visible()
    assert_light(transfer)
    rows = coordinator.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(str(late.uuid)[:8])
    expect(rows.first).to_contain_text("Dermatologie — Cher")
    expect(coordinator.locator("main")).not_to_contain_text(name)
    check_accessibility(coordinator)
    screenshot(coordinator, "expertise-late-desktop")
    assert_fits(coordinator, PHONE)
    screenshot(coordinator, "expertise-late-phone")
    context.close()
