"""fhirpy and fhirclient, used unchanged against a live server: create, read, update, refresh."""

from __future__ import annotations

import pytest
from fhirclient.auth import FHIROAuth2Auth
from fhirclient.models.patient import Patient as ClientPatient
from fhirclient.server import FHIRServer
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from maillage.accounts.actions import create_api_token
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.test_patient_create import _body
from maillage.patients.models import Patient, PatientVersion


@pytest.fixture
def fhir(live_server, personas):
    def client_for(user, **headers):
        token = create_api_token(user, label="fhirpy")
        return SyncFHIRClient(
            f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}", extra_headers=headers
        )

    return client_for


def test_fhirpy_creates_reads_updates_with_if_match_and_refreshes(fhir, personas):
    client = fhir(personas.coordinator)
    created = client.resource("Patient", **_body())
    created.save()
    assert created["meta"]["versionId"] == "1"

    shown = client.reference("Patient", created.id).to_resource()
    changed = client.resource("Patient", **dict(shown))
    changed["name"][1]["family"] = "Dupré-Martin"
    guarded = fhir(personas.coordinator, **{"If-Match": 'W/"1"'})
    guarded.resource("Patient", **dict(changed)).save()

    shown.refresh()
    assert shown["meta"]["versionId"] == "2"
    assert shown["name"][1]["family"] == "Dupré-Martin"
    shown.refresh()  # 304 now: the version it holds is the current one
    assert shown["meta"]["versionId"] == "2"

    stale = guarded.resource("Patient", **dict(changed))
    stale["name"][1]["family"] = "Perdu"
    with pytest.raises(MultipleResourcesFound):  # fhirpy's name for a 412
        stale.save()

    patient = Patient.objects.get(uuid=created.id)
    assert (patient.used_name, patient.version) == ("Dupré-Martin", 2)
    assert PatientVersion.objects.get(patient=patient).identity["used_name"] == "Dupré"
    updates = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).order_by("seq")
    assert [(e.outcome, e.detail.get("failure")) for e in updates] == [
        (Outcome.GRANTED, None),
        (Outcome.FAILED, "stale_version"),
    ]


def test_fhirpy_patches_the_elements_it_names(fhir, personas):
    client = fhir(personas.nurse.user, **{"If-Match": 'W/"1"'})
    patient = client.reference("Patient", str(personas.patient.uuid)).to_resource()

    patient.patch(telecom=[{"system": "email", "value": "m.girard@example.org"}])

    assert patient["meta"]["versionId"] == "2"
    assert patient["telecom"] == [{"system": "email", "value": "m.girard@example.org"}]
    personas.patient.refresh_from_db()
    assert personas.patient.email == "m.girard@example.org"
    with pytest.raises(MultipleResourcesFound):  # If-Match W/"1" is stale now
        patient.patch(telecom=[{"system": "email", "value": "autre@example.org"}])


def test_fhirclient_reads_a_patient_with_its_meta(live_server, personas):
    server = FHIRServer(None, base_uri=f"{live_server.url}/fhir/r4/")
    auth = FHIROAuth2Auth()
    auth.access_token = create_api_token(personas.treating_doctor.user, label="fhirclient")
    server.auth = auth

    patient = ClientPatient.read(str(personas.patient.uuid), server)

    assert patient.meta.versionId == "1"
    assert patient.meta.lastUpdated.datetime is not None
    assert patient.name[0].family == "GIRARD"
