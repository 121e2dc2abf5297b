"""Two Chromiums in a teleconsultation's room (its own pages), for the network tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import Browser, Page, Playwright

from maillage.accounts.models import User
from maillage.conftest import Personas
from maillage.directory.models import Professional
from maillage.patients.models import Patient
from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation
from maillage.testing import netlab
from maillage.testing.browser import CHROMIUM, confirmed_device, sign_in
from maillage.testing.factories import PASSWORD


def _page(playwright: Playwright, executable: str, origin: str, browsers: list[Browser]) -> Page:
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=netlab.chromium_args(origin)
    )
    browsers.append(browser)
    context = browser.new_context(base_url=origin, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)
    return context.new_page()


def inbound(page: Page) -> dict[str, int]:
    result = page.evaluate("window.MaillageRoom.inbound()")
    assert isinstance(result, dict)
    return result


def grown(pages: tuple[Page, Page], kind: str, seconds: float) -> list[int]:
    before = [inbound(p)[kind] for p in pages]
    time.sleep(seconds)
    return [inbound(p)[kind] - before[i] for i, p in enumerate(pages)]


def wait_flowing(pages: tuple[Page, Page], kind: str, timeout: float) -> float:
    started = time.monotonic()
    before = [inbound(p)[kind] for p in pages]
    done = [False, False]
    while not all(done):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no new {kind} bytes on both sides within {timeout} s")
        time.sleep(0.05)
        done = [done[i] or inbound(p)[kind] > before[i] for i, p in enumerate(pages)]
    return time.monotonic() - started


def until(page: Page, expression: str, timeout: float, step: float = 0.2) -> None:
    """Poll an expression (the page's CSP refuses wait_for_function's evaluated strings)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} still false after {timeout} s")
        time.sleep(step)


@dataclass(frozen=True)
class Cast:
    """The médecin traitant and her patient (the shared personas, or a benchmark's own)."""

    doctor_user: User
    doctor: Professional
    patient: Patient
    patient_user: User

    @classmethod
    def of(cls, personas: Personas) -> Cast:
        return cls(
            personas.user("treating_doctor"),
            personas.treating_doctor,
            personas.patient,
            personas.patient_user,
        )


def signed_in_pages(
    playwright: Playwright,
    origin: str,
    cast: Cast,
    browsers: list[Browser],
    patient_chromium: str = CHROMIUM,
) -> tuple[Page, Page]:
    """The doctor (with her code) and the patient signed in, each in a Chromium of their own."""
    key = confirmed_device(cast.doctor_user)
    doctor = _page(playwright, CHROMIUM, origin, browsers)
    patient = _page(playwright, patient_chromium, origin, browsers)
    sign_in(doctor, cast.doctor_user.username, PASSWORD, totp_key=key)
    sign_in(patient, cast.patient_user.username, PASSWORD)
    return doctor, patient


def admit(cast: Cast, pages: tuple[Page, Page]) -> tuple[Consultation, float]:
    """A new act: the doctor opens its room, the patient consents and waits, the doctor admits.

    Returns the act and the moment (``time.monotonic()``) of the click on "Admit".
    """
    doctor, patient = pages
    act = actions.open_consultation(cast.doctor_user, cast.patient, cast.doctor)
    doctor.goto(f"/teleconsultation/{act.uuid}/")
    doctor.locator("[data-join]").click()
    patient.goto(f"/teleconsultation/{act.uuid}/")
    patient.get_by_role("button", name="J'accepte").click()
    patient.locator("[data-join]").click()
    button = doctor.locator("[data-lobby] button")
    # Generous: two Chromiums encoding fake video on two shared cores (CI) may take a while.
    button.wait_for(timeout=90_000)
    clicked = time.monotonic()
    button.click()
    return act, clicked


def wait_connected(pages: tuple[Page, Page], timeout: float = 30, step: float = 0.2) -> None:
    for page in pages:
        until(page, "window.MaillageRoom.inbound().then(t => t.connected === 1)", timeout, step)


def enter_room(
    playwright: Playwright,
    origin: str,
    personas: Personas,
    browsers: list[Browser],
    patient_chromium: str = CHROMIUM,
) -> tuple[Consultation, tuple[Page, Page]]:
    """The médecin traitant opens an act and its room; her patient consents, waits, is admitted."""
    cast = Cast.of(personas)
    pages = signed_in_pages(playwright, origin, cast, browsers, patient_chromium)
    act, _clicked = admit(cast, pages)
    wait_connected(pages)
    return act, pages
