from __future__ import annotations

import uuid

from maillage.directory.models import MailboxType
from maillage.fhir.systems import EMAIL_TYPE_EXTENSION, MAILBOX_KIND_EXTENSION
from maillage.fhir.tests.conftest import extension, fhir_json, issues

G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"


def test_it_reads_a_practitioner(api, personas):
    cardiologist = personas.cardiologist

    response = api.get(f"Practitioner/{cardiologist.uuid}", personas.nurse)

    assert response.status_code == 200
    resource = fhir_json(response)
    assert resource["id"] == str(cardiologist.uuid)
    assert [(i["system"], i["value"]) for i in resource["identifier"]] == [
        ("https://rpps.esante.gouv.fr", cardiologist.rpps),
        ("urn:oid:1.2.250.1.71.4.2.1", "8" + cardiologist.rpps),
    ]
    assert [i["type"]["coding"][0]["code"] for i in resource["identifier"]] == ["RPPS", "IDNPS"]
    assert resource["name"] == [
        {"use": "official", "family": "Lefèvre", "given": ["Hugo"], "prefix": ["Dr"]}
    ]
    assert [q["code"]["coding"][0] for q in resource["qualification"]] == [
        {"system": G15, "code": "10", "display": "Médecin"},
        {"system": R38, "code": "SM04", "display": "Cardiologie et Maladies vasculaires (SM)"},
    ]
    assert resource["active"] is True


def test_it_lists_the_mssante_address_unless_unlisted(api, personas):
    nurse = personas.nurse
    nurse.secure_messaging_address = "ines.roux@infirmier.mssante.fr"
    nurse.mailbox_type = MailboxType.PERSONAL
    nurse.save()

    listed = fhir_json(api.get(f"Practitioner/{nurse.uuid}", personas.patient_user))
    nurse.mailbox_unlisted = True
    nurse.save()
    unlisted = fhir_json(api.get(f"Practitioner/{nurse.uuid}", personas.patient_user))

    (email,) = listed["telecom"]
    assert email["system"] == "email"
    assert email["value"] == "ines.roux@infirmier.mssante.fr"
    assert extension(email, EMAIL_TYPE_EXTENSION)["valueCoding"]["code"] == "MSSANTE"
    assert extension(email, MAILBOX_KIND_EXTENSION)["valueCoding"]["code"] == "PER"
    assert "telecom" not in unlisted
    assert [q["code"]["coding"][0]["code"] for q in listed["qualification"]] == ["60"]


def test_it_answers_404_to_an_unknown_practitioner(api, personas):
    assert api.get(f"Practitioner/{uuid.uuid4()}", personas.nurse).status_code == 404
    response = api.get("Practitioner/12", personas.nurse)
    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"


def test_it_answers_401_without_a_token(api, personas):
    assert api.get(f"Practitioner/{personas.cardiologist.uuid}").status_code == 401
