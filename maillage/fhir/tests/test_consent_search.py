from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import document, fhir_json, issues
from maillage.records import actions

pytestmark = pytest.mark.usefixtures("private_files")

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
KINDS = "https://maillage.example/fhir/CodeSystem/consent-kind"


@pytest.fixture
def decisions(personas):
    """Sharing granted then refused, an opposition, an emergency opposition withdrawn, a mask."""
    user, patient = personas.patient_user, personas.patient
    first = actions.set_sharing(user, patient, granted=True)
    refusal = actions.set_sharing(user, patient, granted=False)
    opposition = actions.oppose_professional(user, patient, personas.cardiologist)
    emergency = actions.oppose_emergency_access(user, patient)
    actions.withdraw_consent(user, emergency)
    doc = document(personas.treating_doctor, patient)
    mask = actions.mask_document(user, doc)
    return {
        "first": first,
        "refusal": refusal,
        "opposition": opposition,
        "emergency": emergency,
        "mask": mask,
        "document": doc,
    }


def _by_kind(bundle):
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["category"][1]["coding"][0]["code"]
        found.setdefault(kind, []).append(resource)
    return found


def test_it_lists_the_patients_own_consents_and_audits_it(api, personas, decisions):
    response = api.get("Consent", personas.patient_user)

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["total"] == 5
    by_kind = _by_kind(bundle)
    for resource in (r for rs in by_kind.values() for r in rs):
        assert resource["meta"]["profile"] == [
            "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-consent"
        ]
        assert resource["scope"]["coding"][0]["code"] == "patient-privacy"
        assert resource["category"][0]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "59284-0",
            "display": "Patient Consent",
        }
        assert resource["category"][1]["coding"][0]["system"] == KINDS
        assert resource["patient"] == {"reference": f"Patient/{personas.patient.uuid}"}
        assert resource["performer"] == [{"reference": f"Patient/{personas.patient.uuid}"}]
    entry = AuditEntry.objects.get(action=Action.CONSENT_READ)
    assert (entry.outcome, entry.patient, entry.basis, entry.detail) == (
        Outcome.GRANTED,
        personas.patient,
        "self",
        {"fhir": "Consent"},
    )


def test_it_maps_sharing_as_permit_or_deny_the_latest_in_force(api, personas, decisions):
    sharing = {
        r["id"]: r
        for r in _by_kind(fhir_json(api.get("Consent", personas.patient_user)))["sharing"]
    }

    refusal = sharing[str(decisions["refusal"].uuid)]
    first = sharing[str(decisions["first"].uuid)]
    assert (refusal["status"], refusal["provision"]["type"]) == ("active", "deny")
    assert refusal["policyRule"]["coding"][0] == {"system": ACT_CODE, "code": "OPTOUT"}
    assert (first["status"], first["provision"]["type"]) == ("inactive", "permit")
    assert first["policyRule"]["coding"][0]["code"] == "OPTIN"


def test_it_maps_an_opposition_to_a_professional_as_a_denied_actor(api, personas, decisions):
    (opposition,) = _by_kind(fhir_json(api.get("Consent", personas.patient_user)))[
        "oppose_professional"
    ]

    assert opposition["status"] == "active"
    assert opposition["policyRule"]["coding"][0]["code"] == "OPTINR"
    provision = opposition["provision"]
    assert provision["type"] == "deny"
    (actor,) = provision["actor"]
    assert actor["reference"]["reference"] == f"Practitioner/{personas.cardiologist.uuid}"
    assert actor["role"]["coding"][0]["code"] == "IRCP"


def test_it_maps_an_opposition_to_emergency_access_as_denied_etreat(api, personas, decisions):
    (emergency,) = _by_kind(fhir_json(api.get("Consent", personas.patient_user)))[
        "oppose_emergency"
    ]

    assert emergency["status"] == "inactive"  # withdrawn
    assert emergency["provision"]["type"] == "deny"
    assert emergency["provision"]["purpose"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": "ETREAT",
            "display": "Emergency Treatment",
        }
    ]
    assert "end" in emergency["provision"]["period"]


def test_it_maps_a_masked_document_as_denied_data(api, personas, decisions):
    (mask,) = _by_kind(fhir_json(api.get("Consent", personas.patient_user)))["mask_document"]

    provision = mask["provision"]
    assert provision["type"] == "deny"
    assert provision["data"] == [
        {
            "meaning": "instance",
            "reference": {"reference": f"DocumentReference/{decisions['document'].uuid}"},
        }
    ]
    assert provision["securityLabel"][0]["code"] == "MASQUE_PS"


def test_it_takes_the_patient_named_as_her_own(api, personas, decisions):
    response = api.get(
        "Consent", personas.patient_user, data={"patient": str(personas.patient.uuid)}
    )

    assert fhir_json(response)["total"] == 5


@pytest.mark.parametrize(
    ("status", "total"), [("active", 3), ("inactive", 2), ("active,inactive", 5)]
)
def test_it_filters_by_status(api, personas, decisions, status, total):
    bundle = fhir_json(api.get("Consent", personas.patient_user, data={"status": status}))

    assert bundle["total"] == total


@pytest.mark.parametrize("who", ["treating_doctor", "cardiologist", "coordinator", "admin"])
def test_it_answers_404_to_anyone_else_naming_her_and_tells_her(api, personas, decisions, who):
    response = api.get("Consent", personas.user(who), data={"patient": str(personas.patient.uuid)})

    assert response.status_code == 404
    entry = AuditEntry.objects.get(action=Action.CONSENT_READ)
    # In her own trail: she sees who tried.
    assert (entry.outcome, entry.patient, entry.actor) == (
        Outcome.DENIED,
        personas.patient,
        personas.user(who),
    )


def test_it_answers_403_to_a_professional_naming_nobody(api, personas):
    response = api.get("Consent", personas.treating_doctor)

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    entry = AuditEntry.objects.get(action=Action.CONSENT_READ)
    assert (entry.outcome, entry.patient, entry.detail) == (
        Outcome.DENIED,
        None,
        {"fhir": "Consent", "rule": "role"},
    )


def test_it_answers_404_to_another_patient_naming_her(api, personas, decisions):
    from maillage.accounts.models import Role
    from maillage.testing import factories as f

    other = f.user("autre.patient", Role.PATIENT)
    f.patient("MARTIN", "Jeanne", user=other)

    response = api.get("Consent", other, data={"patient": str(personas.patient.uuid)})

    assert response.status_code == 404


def test_it_refuses_an_unknown_status(api, personas):
    response = api.get("Consent", personas.patient_user, data={"status": "draft"})

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "code-invalid"
