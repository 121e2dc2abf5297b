"""The inbox open in a browser while the server restarts under it: nothing lost, nothing doubled.

The server is uvicorn in a thread of the test process (as the other browser
tests), stopped and started again on the same port; a message is sent while
it is down. The page must show it once it has reconnected and resumed,
exactly once, without being reloaded.
"""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn
from channels.layers import channel_layers
from playwright.sync_api import Browser, Page, expect

from maillage.messaging import actions
from maillage.messaging.tests.conftest import fr, private_files  # noqa: F401 (autouse fixture)
from maillage.realtime.models import UserEvent
from maillage.testing import factories as f
from maillage.testing.browser import check_accessibility, confirmed_device, sign_in
from maillage.testing.ports import free_port

# Also on PostgreSQL: there the channel layer is Redis (CI), a path of its own.
pytestmark = [pytest.mark.browser, pytest.mark.postgresql_too]


class RestartableServer:
    """uvicorn serving maillage.asgi in a thread, on a port that a second server reuses."""

    def __init__(self, port: int) -> None:
        from maillage.asgi import application

        self.port = port
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn-rt")

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "uvicorn did not stop"
        # A restarted process starts with no channel layer: drop this one's, as
        # its receives may still be counted against the stopped loop (Redis's
        # layer then refuses the new loop: "Two event loops are trying to
        # receive() on one channel layer at once", CI on 4 December).
        channel_layers.backends.clear()


def _send(personas, subject: str):
    return actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject=subject,
            body="Merci de regarder.",
            professionals=[personas.treating_doctor],
            patient_uuid=personas.patient.uuid,
        ),
    )


def _rows(page: Page, subject: str):
    return page.locator("[data-live-inbox] li[data-thread]").filter(has_text=subject)


def test_the_inbox_resumes_after_a_restart_with_each_message_once(
    chromium: Browser, personas, transactional_db, settings
) -> None:
    settings.MAILLAGE_REALTIME_HEARTBEAT_SECONDS = 1
    settings.MAILLAGE_REALTIME_SILENCE_SECONDS = 5
    first = _send(personas, "Pansement de Mme Girard")
    port = free_port()
    server = RestartableServer(port)
    server.start()
    context = chromium.new_context(
        base_url=f"http://127.0.0.1:{port}", locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    doctor = context.new_page()
    nurse = chromium.new_context(base_url=f"http://127.0.0.1:{port}", locale="fr-FR").new_page()
    nurse.set_default_timeout(20_000)
    try:
        sign_in(
            doctor,
            "medecin.traitant",
            f.PASSWORD,
            totp_key=confirmed_device(personas.treating_doctor.user),
        )
        doctor.goto("/messagerie/")
        bell = doctor.locator("[data-realtime-bell]")
        expect(bell).to_have_attribute("data-realtime-state", "open")
        expect(bell.locator("[data-bell-count]")).to_have_text("1")
        expect(_rows(doctor, "Pansement de Mme Girard")).to_have_count(1)
        # Proof that nothing below reloads the page: this survives only without a reload.
        doctor.evaluate("window.maillageMarker = 'still the same page'")

        # Live, through the server: the nurse answers from her browser.
        sign_in(nurse, "infirmier", f.PASSWORD, totp_key=confirmed_device(personas.nurse.user))
        nurse.goto(f"/messagerie/{first.thread.uuid}/")
        nurse.get_by_label(fr("Your reply")).fill("Et la pommade ?")
        nurse.get_by_role("button", name=fr("Send the reply")).click()
        expect(nurse.get_by_text("Et la pommade ?")).to_be_visible()
        expect(bell.locator("[data-bell-count]")).to_have_text("2")
        expect(_rows(doctor, "Pansement de Mme Girard")).to_have_count(1)

        # The server goes down under the page; a message is sent meanwhile.
        server.stop()
        expect(bell).not_to_have_attribute("data-realtime-state", "open")
        _send(personas, "Résultats de Mme Girard")
        assert UserEvent.objects.filter(user=personas.treating_doctor.user).count() == 3
        server = RestartableServer(port)
        server.start()

        # The page reconnects by itself, resumes after seq 2, shows the new row once.
        expect(_rows(doctor, "Résultats de Mme Girard")).to_have_count(1)
        expect(bell).to_have_attribute("data-realtime-state", "open")
        expect(bell.locator("[data-bell-count]")).to_have_text("3")
        # A few heartbeats later, still once each: nothing replayed twice.
        doctor.wait_for_timeout(2500)
        assert _rows(doctor, "Résultats de Mme Girard").count() == 1
        assert _rows(doctor, "Pansement de Mme Girard").count() == 1
        assert doctor.locator("[data-live-inbox] li[data-thread]").count() == 2
        newest = doctor.locator("[data-live-inbox] li[data-thread]").first
        expect(newest).to_contain_text("Résultats de Mme Girard")
        expect(newest).to_contain_text(fr("unread"))
        assert doctor.evaluate("window.maillageMarker") == "still the same page"
        check_accessibility(doctor)
        # The bell leads to the list, which names no subject and clears the count.
        bell.click()
        expect(doctor.get_by_role("heading", name="Notifications")).to_be_visible()
        expect(doctor.get_by_text("Nouveau message dans une conversation")).to_have_count(3)
        check_accessibility(doctor)
        assert "Résultats" not in doctor.content()
    finally:
        nurse.context.close()
        context.close()
        server.stop()
