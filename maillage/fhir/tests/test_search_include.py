"""_include and _revinclude: each included resource read through the policy, never a leak."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import Practice
from maillage.fhir.tests.conftest import BASE, document, fhir_json, in_care_team, issues
from maillage.messaging import actions
from maillage.smart.testing import public_app
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def _entries(bundle, mode):
    return [
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == mode
    ]


def _documents(api, who, **params):
    return api.get("DocumentReference", who, data=params)


# --- _include ----------------------------------------------------------------------


def test_it_includes_the_subject_and_the_author_of_documents(api, personas):
    gp = personas.treating_doctor
    report = document(gp, personas.patient, title="CR")
    patient = str(personas.patient.uuid)

    response = _documents(
        api,
        gp,
        patient=patient,
        _include=["DocumentReference:subject", "DocumentReference:author"],
    )

    bundle = fhir_json(response)
    assert bundle["total"] == 1  # the total counts the matches only
    assert _entries(bundle, "match") == [("DocumentReference", str(report.uuid))]
    assert set(_entries(bundle, "include")) == {
        ("Patient", patient),
        ("Practitioner", str(gp.uuid)),
    }
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert f"http://testserver/fhir/r4/Patient/{patient}" in full_urls
    # The included patient is a read of her identity, audited as one.
    read = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert (read.patient, read.outcome, read.actor) == (personas.patient, Outcome.GRANTED, gp.user)


def test_an_include_with_a_target_type_keeps_that_type_only(api, personas):
    document(personas.treating_doctor, personas.patient, title="CR")

    bundle = fhir_json(
        _documents(
            api,
            personas.treating_doctor,
            patient=str(personas.patient.uuid),
            _include="DocumentReference:author:Patient",
        )
    )

    assert _entries(bundle, "include") == []


def test_a_professional_who_may_read_the_message_but_not_the_patient_gets_no_patient(api, personas):
    # Sent a message about her, the cardiologist (no link with her) may read
    # the message, never her identity: the include must not show it either.
    message = actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Avis",
            body="Voir le tracé.",
            professionals=[personas.cardiologist],
            patient_uuid=personas.patient.uuid,
        ),
    )

    response = api.get(
        "Communication",
        personas.cardiologist,
        data={"_include": ["Communication:subject", "Communication:sender"]},
    )

    bundle = fhir_json(response)
    assert _entries(bundle, "match") == [("Communication", str(message.uuid))]
    # The sender (directory) comes; the patient, whom he may not read, does not.
    assert _entries(bundle, "include") == [("Practitioner", str(personas.nurse.uuid))]
    assert str(personas.patient.uuid) not in json.dumps(
        [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    )
    refused = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert (refused.patient, refused.outcome, refused.actor) == (
        personas.patient,
        Outcome.DENIED,
        personas.cardiologist.user,
    )


def test_the_medecin_traitant_gets_the_patient_of_the_same_message(api, personas):
    actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement",
            body="Fait.",
            professionals=[personas.treating_doctor],
            patient_uuid=personas.patient.uuid,
        ),
    )

    bundle = fhir_json(
        api.get(
            "Communication", personas.treating_doctor, data={"_include": "Communication:subject"}
        )
    )

    assert _entries(bundle, "include") == [("Patient", str(personas.patient.uuid))]


def test_it_includes_the_medecin_traitant_of_patients(api, personas):
    bundle = fhir_json(
        api.get("Patient", personas.coordinator, data={"_include": "Patient:general-practitioner"})
    )

    assert _entries(bundle, "include") == [("Practitioner", str(personas.treating_doctor.uuid))]


def test_it_includes_what_a_practitioner_role_names(api, personas):
    role = Practice.objects.get(professional=personas.treating_doctor, structure=personas.msp)

    bundle = fhir_json(
        api.get(
            "PractitionerRole",
            personas.coordinator,
            data={
                "_id": str(role.uuid),
                "_include": [
                    "PractitionerRole:practitioner",
                    "PractitionerRole:organization",
                    "PractitionerRole:location",
                ],
            },
        )
    )

    assert set(_entries(bundle, "include")) == {
        ("Practitioner", str(personas.treating_doctor.uuid)),
        ("Organization", str(personas.msp.uuid)),
        ("Location", str(personas.msp.uuid)),
    }


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("Patient", {"_include": "Patient:organization"}, "Patient:general-practitioner"),
        ("Patient", {"_include": "*"}, "_include"),
        ("Patient", {"_revinclude": "Consent:patient"}, "DocumentReference:subject"),
        ("Patient", {"_include:iterate": "Patient:general-practitioner"}, "iterate"),
        ("Consent", {"_include": "Consent:patient"}, "_include"),
    ],
)
def test_it_refuses_includes_it_does_not_have(api, personas, path, params, named):
    response = api.get(path, personas.coordinator, data=params)

    assert response.status_code == 400
    assert named in " ".join(i["diagnostics"] for i in issues(response))


def test_a_refusal_of_an_include_is_in_french(api, personas):
    response = api.get("Patient", personas.coordinator, data={"_include": "Patient:link"})

    assert issues(response)[0]["diagnostics"] == (
        "La valeur « Patient:link » de _include n'est pas prise en charge. "
        "Valeurs acceptées : Patient:general-practitioner."
    )


# --- _revinclude -------------------------------------------------------------------


def test_it_brings_the_documents_of_each_patient_as_a_search_would(api, personas):
    gp = personas.treating_doctor
    report = document(gp, personas.patient, title="CR")
    other = f.patient("ARNAUD", "Zoé", followed_by=(personas.msp,), treating_doctor=gp)
    theirs = document(gp, other, "prescription", title="Ordonnance")

    bundle = fhir_json(api.get("Patient", gp, data={"_revinclude": "DocumentReference:subject"}))

    assert set(_entries(bundle, "match")) == {
        ("Patient", str(personas.patient.uuid)),
        ("Patient", str(other.uuid)),
    }
    assert set(_entries(bundle, "include")) == {
        ("DocumentReference", str(report.uuid)),
        ("DocumentReference", str(theirs.uuid)),
    }
    opened = AuditEntry.objects.filter(action=Action.RECORD_READ, outcome=Outcome.GRANTED)
    assert {e.patient for e in opened} == {personas.patient, other}


def test_a_coordinator_lists_patients_but_gets_none_of_their_documents(api, personas):
    document(personas.treating_doctor, personas.patient, title="CR")

    bundle = fhir_json(
        api.get("Patient", personas.coordinator, data={"_revinclude": "DocumentReference:subject"})
    )

    assert _entries(bundle, "match") == [("Patient", str(personas.patient.uuid))]
    assert _entries(bundle, "include") == []
    # The opening was refused, and audited as a search of the record would be.
    refused = AuditEntry.objects.get(action=Action.RECORD_READ)
    assert (refused.outcome, refused.patient) == (Outcome.DENIED, personas.patient)


def test_a_nurse_gets_only_the_documents_her_profession_reads(api, personas):
    in_care_team(personas.nurse, personas.patient)
    report = document(personas.treating_doctor, personas.patient, title="CR")
    # The habilitation matrix gives nurses no unclassified document (doctors only).
    document(personas.treating_doctor, personas.patient, "unclassified", title="Inconnu")

    bundle = fhir_json(
        api.get("Patient", personas.nurse, data={"_revinclude": "DocumentReference:subject"})
    )

    assert _entries(bundle, "include") == [("DocumentReference", str(report.uuid))]


def test_a_patient_gets_her_documents_but_not_those_hidden_from_her(api, personas):
    shown = document(personas.treating_doctor, personas.patient, title="CR")
    hidden = document(
        personas.treating_doctor, personas.patient, "photo", title="Photo", hidden_from_patient=True
    )

    bundle = fhir_json(
        api.get(
            "Patient",
            personas.patient_user,
            data={
                "_revinclude": "DocumentReference:patient",
                "_include": "Patient:general-practitioner",
            },
        )
    )

    assert _entries(bundle, "match") == [("Patient", str(personas.patient.uuid))]
    included = set(_entries(bundle, "include"))
    assert ("DocumentReference", str(shown.uuid)) in included
    assert ("DocumentReference", str(hidden.uuid)) not in included
    assert ("Practitioner", str(personas.treating_doctor.uuid)) in included


def test_it_brings_the_roles_of_a_practitioner(api, personas):
    bundle = fhir_json(
        api.get(
            "Practitioner",
            personas.coordinator,
            data={"_id": str(personas.nurse.uuid), "_revinclude": "PractitionerRole:practitioner"},
        )
    )

    roles = {i for t, i in _entries(bundle, "include") if t == "PractitionerRole"}
    assert roles == {str(p.uuid) for p in Practice.objects.filter(professional=personas.nurse)}
    assert len(roles) == 2


# --- an app's token: the scopes narrow includes too ------------------------------------


def _app_token(client: Client, user: Any, scope: str) -> str:
    from maillage.smart.tests.conftest import launch

    token = launch(client, user, public_app()).token(scope)
    return str(token["access_token"])


def test_an_app_without_the_patient_scope_gets_no_patient_through_include(client, personas):
    document(personas.treating_doctor, personas.patient, title="CR")
    raw = _app_token(client, personas.patient_user, "patient/DocumentReference.rs")

    response: Any = Client().get(
        f"{BASE}/DocumentReference",
        {"_include": "DocumentReference:subject"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert len(_entries(bundle, "match")) == 1
    assert _entries(bundle, "include") == []
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()


def test_an_app_without_the_document_scope_gets_no_document_through_revinclude(client, personas):
    document(personas.treating_doctor, personas.patient, title="CR")
    raw = _app_token(client, personas.patient_user, "patient/Patient.rs")

    response: Any = Client().get(
        f"{BASE}/Patient",
        {"_revinclude": "DocumentReference:subject"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert _entries(bundle, "match") == [("Patient", str(personas.patient.uuid))]
    assert _entries(bundle, "include") == []
    assert not AuditEntry.objects.filter(action=Action.RECORD_READ).exists()


def test_a_patient_naming_another_gets_nothing_extra(api, personas):
    other = f.patient("ARNAUD", "Zoé", followed_by=(personas.msp,))
    document(personas.treating_doctor, other, title="CR de Zoé")

    bundle = fhir_json(
        api.get(
            "Patient",
            personas.patient_user,
            data={"_id": str(other.uuid), "_revinclude": "DocumentReference:subject"},
        )
    )

    assert bundle["total"] == 0
    assert "entry" not in bundle
    assert not AuditEntry.objects.filter(patient=other).exists()


def test_it_includes_the_organization_of_a_location_and_the_roles_of_an_organization(api, personas):
    locations = fhir_json(
        api.get(
            "Location",
            personas.coordinator,
            data={"_id": str(personas.msp.uuid), "_include": "Location:organization"},
        )
    )
    organizations = fhir_json(
        api.get(
            "Organization",
            personas.coordinator,
            data={"_id": str(personas.msp.uuid), "_revinclude": "PractitionerRole:organization"},
        )
    )

    assert _entries(locations, "include") == [("Organization", str(personas.msp.uuid))]
    assert {i for _t, i in _entries(organizations, "include")} == {
        str(p.uuid) for p in Practice.objects.filter(structure=personas.msp)
    }


def test_an_include_asked_thirty_times_costs_what_asking_it_once_does(api, personas):
    gp = personas.treating_doctor
    document(gp, personas.patient, title="CR")
    patient = str(personas.patient.uuid)

    def queries(times: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = _documents(
                api,
                gp,
                patient=patient,
                _include=",".join(["DocumentReference:subject"] * times),
                _sort=",".join(["-date"] * times),
            )
        assert response.status_code == 200
        assert _entries(fhir_json(response), "include") == [("Patient", patient)]
        return len(captured)

    queries(1)  # the first call pays for what is cached per token and process
    once = queries(1)
    assert queries(30) == once
