"""The patient pages through the HTTP layer: status, database state and audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient
from maillage.testing import factories as f
from maillage.testing.factories import page_text


def identity_form(**overrides: str) -> dict[str, str]:
    born = dt.date(1975, 9, 30)
    data = {
        "birth_name": "Petit",
        "first_birth_given_name": "Anaïs",
        "birth_given_names": "Anaïs Marie",
        "birth_date": born.isoformat(),
        "sex": "F",
        "birthplace_code": "18242",
        "ins_matricule": f.matricule("F", born, place="18242", order=12),
        "ins_kind": "NIR",
        "identity_document": "identity_card",
        "retrieved_from_insi": "on",
        "commune": "Sancoins",
        "phone": "02 48 00 00 00",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_it_creates_a_qualified_identity(personas) -> None:
    client = signed_in(personas.coordinator)
    response = client.post("/patients/nouveau/", identity_form())
    created = Patient.objects.get(birth_name="Petit")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{created.uuid}/"
    assert created.identity_status == "QUAL" and created.matricule_transmissible
    assert created.commune is not None and created.commune.insee_code == "18242"
    detail = page_text(client.get(response["Location"]))
    assert "Identité qualifiée" in detail and "PETIT Anaïs" in detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sex": "M"}, "Le matricule INS indique l'autre sexe."),
        ({"birth_date": "1976-09-30"}, "Le matricule INS indique une autre année de naissance."),
        (
            {"ins_matricule": "", "retrieved_from_insi": "on"},
            "Une identité renvoyée par le téléservice INSi est accompagnée de son matricule INS.",
        ),
        (
            {"birth_given_names": "Marie Anaïs"},
            "La liste des prénoms de naissance doit commencer par le premier prénom de naissance.",
        ),
        (
            {"birth_date": "2999-01-01", "ins_matricule": ""},
            "La date de naissance est dans le futur.",
        ),
        ({"birthplace_code": "ABCDE"}, "Le lieu de naissance est un code INSEE de 5 caractères"),
        (
            {"commune": "Atlantide"},
            "Aucune commune du Centre-Val de Loire ne s'appelle « Atlantide ».",
        ),
        ({"ins_matricule": "12345"}, "Un matricule INS comporte 15 caractères"),
        ({"treating_doctor_rpps": "10000000001"}, "Ce numéro RPPS n'est pas valide."),
        ({"birth_date": "pas une date"}, "Saisissez une date valide."),
    ],
)
def test_it_explains_each_identity_error_in_french(personas, overrides, message) -> None:
    response = signed_in(personas.coordinator).post(
        "/patients/nouveau/", identity_form(**overrides)
    )
    assert response.status_code == 400
    assert message in page_text(response)
    assert not Patient.objects.filter(birth_name="Petit").exists()


@pytest.mark.django_db
def test_the_same_matricule_can_never_be_registered_twice(personas) -> None:
    existing = personas.patient
    response = signed_in(personas.coordinator).post(
        "/patients/nouveau/",
        identity_form(
            birth_name="Autre",
            ins_matricule=existing.ins_matricule,
            sex="F",
            birth_date="1948-03-14",
            birthplace_code="",
            confirm_distinct="on",
            first_birth_given_name="Anaïs",
            birth_given_names="",
        ),
    )
    assert response.status_code == 409
    assert "Ce matricule INS est déjà enregistré" in page_text(response)
    assert Patient.objects.filter(ins_matricule=existing.ins_matricule).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["cardiologist", "stranger_coordinator", "analyst", "admin"])
def test_unlinked_users_get_not_found_and_are_audited(personas, who) -> None:
    user = personas.user(who)
    client = signed_in(user)
    for url in [
        f"/patients/{personas.patient.uuid}/",
        f"/patients/{personas.patient.uuid}/modifier/",
    ]:
        response = client.get(url)
        assert response.status_code == 404
        assert "Introuvable" in page_text(response)
    refused = AuditEntry.objects.filter(
        actor=user, patient=personas.patient, outcome=Outcome.DENIED
    )
    assert refused.count() == 2


@pytest.mark.django_db
def test_an_edit_records_which_fields_changed_never_their_values(personas) -> None:
    client = signed_in(personas.treating_doctor.user)
    patient = personas.patient
    form = client.get(f"/patients/{patient.uuid}/modifier/")
    assert form.status_code == 200
    data = {
        k: ("on" if v is True else "" if v in (None, False) else str(v))
        for k, v in form.context["form"].initial.items()
    }
    data.update(
        {
            "commune": "Sancoins",
            "treating_doctor": str(personas.treating_doctor.pk),
            "phone": "06 00 00 00 01",
            "used_name": "BERTRAND",
        }
    )
    response = client.post(f"/patients/{patient.uuid}/modifier/", data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.used_name) == ("06 00 00 00 01", "BERTRAND")
    entry = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("seq")
    assert sorted(entry.detail["fields"]) == ["phone", "used_name"]
    assert "06 00 00 00 01" not in str(entry.payload())


@pytest.mark.django_db
def test_a_nurse_of_the_structure_may_edit_but_the_social_worker_may_not(personas) -> None:
    url = f"/patients/{personas.patient.uuid}/modifier/"
    assert signed_in(personas.nurse.user).get(url).status_code == 200
    assert signed_in(personas.social_worker).get(url).status_code == 404
    assert signed_in(personas.social_worker).post(url, {"birth_name": "X"}).status_code == 404
    personas.patient.refresh_from_db()
    assert personas.patient.birth_name == "GIRARD"


@pytest.mark.django_db
def test_the_patient_sees_her_record_and_log_but_no_other(personas) -> None:
    client = signed_in(personas.patient_user)
    assert client.get("/patients/mon-dossier/").status_code == 200
    log = client.get("/patients/mon-dossier/acces/")
    assert log.status_code == 200
    other = f.patient("VOISINE", "Rose", followed_by=(personas.msp,))
    assert client.get(f"/patients/{other.uuid}/").status_code == 404
    assert client.get("/patients/").status_code == 403


@pytest.mark.django_db
def test_a_professional_has_no_personal_record(personas) -> None:
    response = signed_in(personas.coordinator).get("/patients/mon-dossier/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_patient_list_survives_odd_parameters(personas) -> None:
    client = signed_in(personas.coordinator)
    for params in [
        {"page": "-3"},
        {"page": "abc"},
        {"page": "99999"},
        {"birth_date": "hier"},
        {"q": "x" * 500},
    ]:
        assert client.get("/patients/", params).status_code == 200
