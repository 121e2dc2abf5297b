"""Patient vread and instance history: every version, through the gate, audited as a read."""

from __future__ import annotations

import dataclasses

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.patients import actions
from maillage.patients.models import Patient, PatientVersion


def _identity(patient):
    from maillage.patients.identity import IDENTITY_FIELDS, IdentityInput

    return IdentityInput(**{name: getattr(patient, name) for name in IDENTITY_FIELDS})


def _rename(personas, used_name):
    current = Patient.objects.get(pk=personas.patient.pk)
    changed = dataclasses.replace(_identity(current), used_name=used_name)
    return actions.update_patient(personas.coordinator, current.uuid, changed)


def test_each_update_makes_a_version_and_keeps_the_one_it_replaced(personas):
    first = _rename(personas, "MARTIN")
    second = _rename(personas, "DUBOIS")

    assert (first.version, second.version) == (2, 3)
    kept = PatientVersion.objects.filter(patient=personas.patient).order_by("version")
    assert [(v.version, v.identity["used_name"]) for v in kept] == [(1, ""), (2, "MARTIN")]
    assert all(v.replaced_by == personas.coordinator for v in kept)
    assert kept[1].written_at == kept[0].replaced_at
    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("seq")
    assert (entry.outcome, entry.detail["version"]) == (Outcome.GRANTED, 3)


def test_an_update_that_changes_nothing_makes_no_version(personas):
    current = Patient.objects.get(pk=personas.patient.pk)

    same = actions.update_patient(personas.coordinator, current.uuid, _identity(current))

    assert same.version == 1
    assert not PatientVersion.objects.exists()
    entry = AuditEntry.objects.get(action=Action.PATIENT_UPDATE)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "no_change")


def test_it_reads_an_earlier_version_and_audits_it_as_a_read(api, personas):
    _rename(personas, "MARTIN")
    patient = personas.patient

    response = api.get(f"Patient/{patient.uuid}/_history/1", personas.treating_doctor)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(patient.uuid)
    assert resource["meta"]["versionId"] == "1"
    assert [n["use"] for n in resource["name"]] == ["official"]
    assert response["ETag"] == 'W/"1"'
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert (entry.outcome, entry.patient, entry.basis) == (
        Outcome.GRANTED,
        patient,
        "treating_doctor",
    )
    assert entry.detail == {"fhir": "vread", "version": 1}


def test_the_current_version_is_read_by_its_number_too(api, personas):
    _rename(personas, "MARTIN")

    resource = fhir_json(
        api.get(f"Patient/{personas.patient.uuid}/_history/2", personas.treating_doctor)
    )

    assert resource["meta"]["versionId"] == "2"
    assert resource["name"][1] == {"use": "usual", "family": "MARTIN"}


def test_a_version_that_does_not_exist_is_not_found(api, personas):
    for vid in ("2", "0", "x", "99999999999"):
        response = api.get(f"Patient/{personas.patient.uuid}/_history/{vid}", personas.nurse)

        assert response.status_code == 404, vid
        assert issues(response)[0]["code"] == "not-found"


def test_the_history_lists_every_version_newest_first(api, personas):
    _rename(personas, "MARTIN")
    _rename(personas, "DUBOIS")

    response = api.get(f"Patient/{personas.patient.uuid}/_history", personas.treating_doctor)

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert (bundle["type"], bundle["total"]) == ("history", 3)
    entries = bundle["entry"]
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["3", "2", "1"]
    assert [e["request"]["method"] for e in entries] == ["PUT", "PUT", "POST"]
    assert [e["response"]["etag"] for e in entries] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert entries[2]["response"]["status"].startswith("201")
    used = [
        [n.get("family") for n in e["resource"]["name"] if n["use"] == "usual"] for e in entries
    ]
    assert used == [["DUBOIS"], ["MARTIN"], []]
    entry = AuditEntry.objects.get(action=Action.PATIENT_READ)
    assert entry.detail == {"fhir": "history"}


def test_a_stranger_gets_neither_history_nor_versions_and_is_audited(api, personas):
    _rename(personas, "MARTIN")
    patient = personas.patient

    for path in (f"Patient/{patient.uuid}/_history", f"Patient/{patient.uuid}/_history/1"):
        response = api.get(path, personas.cardiologist)

        assert response.status_code == 404
    refusals = AuditEntry.objects.filter(action=Action.PATIENT_READ, outcome=Outcome.DENIED)
    assert refusals.count() == 2
    assert {e.patient for e in refusals} == {patient}


def test_the_patient_reads_her_own_history(api, personas):
    _rename(personas, "MARTIN")

    response = api.get(f"Patient/{personas.patient.uuid}/_history", personas.patient_user)

    assert fhir_json(response)["total"] == 2


def test_types_without_versions_answer_not_supported_not_404(api, personas):
    for path in (
        f"Practitioner/{personas.cardiologist.uuid}/_history",
        f"Practitioner/{personas.cardiologist.uuid}/_history/1",
        f"Organization/{personas.msp.uuid}/_history/1",
    ):
        response = api.get(path, personas.nurse)

        assert response.status_code == 501, path
        (issue,) = issues(response)
        assert issue["code"] == "not-supported"
        assert "historique" in issue["diagnostics"]


def test_an_earlier_version_keeps_the_details_it_had(api, personas):
    from maillage.patients import versions
    from maillage.patients.details import (
        Coded,
        Contact,
        Language,
        OtherIdentifier,
        PatientDetails,
        PostalAddress,
        Telecom,
        details_of,
    )
    from maillage.territory.models import Commune

    current = Patient.objects.get(pk=personas.patient.pk)
    abroad = PatientDetails(
        identifiers=(OtherIdentifier(system="http://hospital.example/mrn", value="42"),),
        addresses=(PostalAddress(use="home", city="Boston", country="US"),),
        contacts=(
            Contact(
                relationship=Coded(code="N", text="Fille"),
                family="GIRARD",
                given=("Anne",),
                telecoms=(Telecom(system="phone", value="0600000000"),),
                address=PostalAddress(
                    city="Sancoins", commune=Commune.objects.get(insee_code="18242")
                ),
            ),
        ),
        languages=(Language(Coded(code="fr"), preferred=True),),
        managing_organization=personas.msp,
        deceased=False,
    )
    actions.update_patient(
        personas.coordinator, current.uuid, dataclasses.replace(_identity(current), details=abroad)
    )
    path = f"Patient/{personas.patient.uuid}/_history"

    first = fhir_json(api.get(f"{path}/1", personas.treating_doctor))
    second = fhir_json(api.get(f"{path}/2", personas.treating_doctor))

    assert [a.get("city") for a in first["address"]] == ["Sancoins"]
    assert "identifier" not in first
    assert [a.get("city") for a in second["address"]] == ["Sancoins", "Boston"]
    assert second["identifier"] == [{"system": "http://hospital.example/mrn", "value": "42"}]
    assert "contact" not in first
    assert second["contact"][0]["name"]["family"] == "GIRARD"
    # Each kept detail comes back from its snapshot as it was.
    kept = details_of(Patient.objects.get(pk=current.pk))
    assert kept.contacts and kept.languages
    assert versions.as_it_was_details(versions.snapshot(current, kept)) == kept
