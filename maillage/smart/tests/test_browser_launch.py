"""A SMART standalone launch through the real pages, driven by the fhirclient library unchanged.

fhirclient reads the CapabilityStatement, builds the authorization URL (with
its PKCE S256 challenge), the person signs in and consents in Chromium, and
fhirclient exchanges the code and reads with the access token.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from fhirclient import client as smart_client
from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.patient import Patient as FhirPatient
from fhirclient.server import (
    FHIRNotFoundException,
    FHIRPermissionDeniedException,
    FHIRUnauthorizedException,
)
from playwright.sync_api import Page, Route, expect

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.smart.testing import public_app
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    current_totp,
    screenshot,
)

pytestmark = pytest.mark.browser
CALLBACK = "http://app.example/callback"


def _fhir_client(live_url: str, client_id: str, scope: str) -> Any:
    return smart_client.FHIRClient(
        settings={
            "app_id": client_id,
            "api_base": f"{live_url}/fhir/r4",
            "redirect_uri": CALLBACK,
            "scope": scope,
        }
    )


def _launch(page: Page, smart: Any, username: str, *, totp_key: bytes | None = None) -> str:
    """Sign in and consent through the pages; return the URL the app is sent back to."""
    returned: list[str] = []

    def app_page(route: Route) -> None:
        returned.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>App</p>")

    page.route("http://app.example/**", app_page)
    page.goto(smart.authorize_url)
    page.get_by_label("Nom d'utilisateur").wait_for()
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(f.PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if totp_key is not None:
        page.get_by_role("heading", name="Saisissez votre code à usage unique").wait_for()
        page.get_by_label("Code à 6 chiffres").fill(current_totp(totp_key))
        page.get_by_role("button", name="Valider").click()
    expect(
        page.get_by_role("heading", name="Autoriser l'application « Carnet de santé » ?")
    ).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"smart-consent-{username}")
    page.get_by_role("button", name="Autoriser").click()
    page.wait_for_url("http://app.example/**")
    assert returned, "the app was never called back"
    return returned[-1]


def test_a_patient_app_launches_and_sees_only_her(page: Page, live_url: str, personas) -> None:
    other = f.patient("MARTIN", "Louise", followed_by=(personas.msp,))
    app = public_app(redirect_uri=CALLBACK)
    smart = _fhir_client(
        live_url, app.client_id, "launch/patient openid fhirUser patient/Patient.rs"
    )

    smart.handle_callback(_launch(page, smart, "patient"))

    assert smart.ready
    assert smart.patient_id == str(personas.patient.uuid)
    mine = FhirPatient.read(smart.patient_id, smart.server)
    assert mine.id == str(personas.patient.uuid)
    with pytest.raises(FHIRNotFoundException):
        FhirPatient.read(str(other.uuid), smart.server)
    assert AuditEntry.objects.get(patient=other).outcome == Outcome.DENIED
    # patient/Patient.rs: no document, refused before any handler.
    with pytest.raises(FHIRPermissionDeniedException):
        list(
            DocumentReference.where({"patient": smart.patient_id}).perform_resources_iter(
                smart.server
            )
        )
    assert AuditEntry.objects.filter(action=Action.SCOPE_REFUSED).exists()
    # No offline_access: no refresh token, so fhirclient cannot renew the access.
    assert smart.server.auth.refresh_token is None
    assert smart.server.reauthorize() is None
    # Revoked by the app: the token opens nothing any more.
    revoked = requests.post(
        f"{live_url}/o/revoke_token/",
        data={"token": smart.server.auth.access_token, "client_id": app.client_id},
        timeout=30,
    )
    assert revoked.status_code == 200
    with pytest.raises(FHIRUnauthorizedException):
        FhirPatient.read(smart.patient_id, smart.server)


def test_a_professional_app_launches_after_her_totp(page: Page, live_url: str, personas) -> None:
    key = confirmed_device(personas.treating_doctor.user)
    app = public_app(redirect_uri=CALLBACK)
    smart = _fhir_client(live_url, app.client_id, "openid fhirUser user/*.rs")

    smart.handle_callback(_launch(page, smart, "medecin.traitant", totp_key=key))

    assert "patient" not in smart.launch_context
    payload = smart.launch_context["id_token"].split(".")[1]
    claims = json.loads(_b64(payload))
    assert claims["fhirUser"] == f"Practitioner/{personas.treating_doctor.uuid}"
    read = FhirPatient.read(str(personas.patient.uuid), smart.server)
    assert read.id == str(personas.patient.uuid)
    assert AuditEntry.objects.filter(
        patient=personas.patient,
        action=Action.PATIENT_READ,
        actor=personas.treating_doctor.user,
        outcome=Outcome.GRANTED,
        channel="fhir",
    ).exists()

    # She changes her mind: from her home page to "Mes applications", one click.
    page.goto(f"{live_url}/")
    page.get_by_role("link", name="Mes applications").click()
    expect(page.get_by_role("heading", name="Mes applications")).to_be_visible()
    expect(page.get_by_text("Lire, rechercher")).to_be_visible()
    check_accessibility(page)
    assert_fits(page, PHONE)
    screenshot(page, "smart-my-apps-phone")
    page.get_by_role("button", name="Révoquer l'application Carnet de santé").click()
    expect(page.get_by_text("Aucune application ne peut utiliser votre compte.")).to_be_visible()
    with pytest.raises(FHIRUnauthorizedException):
        FhirPatient.read(str(personas.patient.uuid), smart.server)
    assert AuditEntry.objects.filter(
        action=Action.APP_REVOKED, actor=personas.treating_doctor.user, outcome=Outcome.GRANTED
    ).exists()


def _b64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
