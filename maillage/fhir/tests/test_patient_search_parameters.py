"""Patient search by name, gender and médecin traitant; a patient's own token finds her."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import Practice
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.testing import factories as f


def _ids(bundle):
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


@pytest.fixture
def others(personas):
    """Two more patients of the MSP; Émile has no médecin traitant, Zoé another one."""
    other_gp = f.professional("autre.medecin", last_name="Perrin", structures=(personas.msp,))
    return {
        "emile": f.patient(
            "LÉGER",
            "Émile",
            dt.date(1950, 6, 1),
            "M",
            followed_by=(personas.msp,),
            used_name="Dupré-Léger",
        ),
        "zoe": f.patient(
            "ARNAUD",
            "Zoé",
            dt.date(1960, 1, 1),
            followed_by=(personas.msp,),
            birth_given_names="Zoé Michèle",
            treating_doctor=other_gp,
        ),
        "other_gp": other_gp,
    }


def _search(api, who, **params):
    return api.get("Patient", who, data=params)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("leg", {"emile"}),  # birth name, accents ignored
        ("dupr", {"emile"}),  # used name (compared without accent folding)
        ("EMILE", {"emile"}),  # given name
        ("mich", {"patient", "zoe"}),  # first given name of one, second of the other
        ("girard", {"patient"}),
        ("arn,leger", {"zoe", "emile"}),  # commas mean OR
        ("zz", set()),
    ],
)
def test_it_finds_by_any_part_of_the_name(api, personas, others, value, expected):
    bundle = fhir_json(_search(api, personas.coordinator, name=value))

    wanted = {**others, "patient": personas.patient}
    assert set(_ids(bundle)) == {str(wanted[k].uuid) for k in expected}


def test_repeated_names_must_all_match(api, personas, others):
    bundle = fhir_json(api.get("Patient", personas.coordinator, data={"name": ["zoe", "arnaud"]}))

    assert _ids(bundle) == [str(others["zoe"].uuid)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("male", {"emile"}),
        ("female", {"patient", "zoe"}),
        ("http://hl7.org/fhir/administrative-gender|female", {"patient", "zoe"}),
        ("male,female", {"emile", "patient", "zoe"}),
        ("other", set()),
        ("unknown", set()),
    ],
)
def test_it_finds_by_gender(api, personas, others, value, expected):
    bundle = fhir_json(_search(api, personas.coordinator, gender=value))

    wanted = {**others, "patient": personas.patient}
    assert set(_ids(bundle)) == {str(wanted[k].uuid) for k in expected}


def test_it_refuses_an_unknown_gender_in_french(api, personas):
    response = _search(api, personas.coordinator, gender="F")

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "code-invalid"
    assert issue["diagnostics"] == (
        "Genre inconnu « F » : utilisez male, female, other ou unknown."
    )
    assert not AuditEntry.objects.filter(action=Action.SEARCH).exists()


def test_it_finds_by_medecin_traitant_as_practitioner_or_role(api, personas, others):
    gp = personas.treating_doctor
    role = Practice.objects.get(professional=gp, structure=personas.msp)

    as_practitioner = fhir_json(
        _search(api, personas.coordinator, **{"general-practitioner": f"Practitioner/{gp.uuid}"})
    )
    as_bare_id = fhir_json(
        _search(api, personas.coordinator, **{"general-practitioner": str(gp.uuid)})
    )
    as_role = fhir_json(
        _search(
            api, personas.coordinator, **{"general-practitioner": f"PractitionerRole/{role.uuid}"}
        )
    )
    of_other = fhir_json(
        _search(
            api,
            personas.coordinator,
            **{"general-practitioner": f"Practitioner/{others['other_gp'].uuid}"},
        )
    )

    assert _ids(as_practitioner) == _ids(as_bare_id) == _ids(as_role)
    assert _ids(as_practitioner) == [str(personas.patient.uuid)]
    assert _ids(of_other) == [str(others["zoe"].uuid)]


def test_the_medecin_traitant_search_lists_only_patients_the_user_may_see(api, personas):
    gp = personas.treating_doctor
    # Her médecin traitant too, but nobody of the stranger's MSP follows her.
    response = _search(
        api, personas.stranger_coordinator, **{"general-practitioner": f"Practitioner/{gp.uuid}"}
    )

    assert fhir_json(response)["total"] == 0
    assert not AuditEntry.objects.filter(patient=personas.patient).exists()


@pytest.mark.parametrize(
    "value", ["Organization/1f0c8f7e-6d3c-4a52-9d7e-0a0a0a0a0a0a", "Patient/abc"]
)
def test_it_refuses_a_general_practitioner_of_another_type(api, personas, value):
    response = _search(api, personas.coordinator, **{"general-practitioner": value})

    assert response.status_code == 400
    assert "Practitioner" in issues(response)[0]["diagnostics"]


# --- a patient's own token -----------------------------------------------------------


def test_a_patient_finds_herself_and_only_herself(api, personas, others):
    response = _search(api, personas.patient_user)

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["total"] == 1
    assert _ids(bundle) == [str(personas.patient.uuid)]
    search = AuditEntry.objects.get(action=Action.SEARCH)
    assert (search.actor, search.outcome, search.detail["results"]) == (
        personas.patient_user,
        Outcome.GRANTED,
        1,
    )
    (read,) = AuditEntry.objects.filter(action=Action.PATIENT_READ)
    assert (read.patient, read.outcome, read.basis) == (personas.patient, Outcome.GRANTED, "self")
    assert not AuditEntry.objects.filter(patient__in=[others["emile"], others["zoe"]]).exists()


def test_a_patient_finds_herself_by_id(api, personas):
    bundle = fhir_json(_search(api, personas.patient_user, _id=str(personas.patient.uuid)))

    assert _ids(bundle) == [str(personas.patient.uuid)]


@pytest.mark.parametrize("criterion", ["_id", "name", "general-practitioner"])
def test_a_patient_never_finds_anyone_else(api, personas, others, criterion):
    value = {
        "_id": str(others["zoe"].uuid),
        "name": "arnaud",
        "general-practitioner": f"Practitioner/{others['other_gp'].uuid}",
    }[criterion]

    bundle = fhir_json(_search(api, personas.patient_user, **{criterion: value}))

    assert bundle["total"] == 0
    assert "entry" not in bundle
    assert not AuditEntry.objects.filter(patient__in=[others["emile"], others["zoe"]]).exists()
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()


def test_a_patient_account_without_a_record_is_refused_and_audited(api, db):
    from maillage.accounts.models import Role

    lonely = f.user("patient.sans.dossier", Role.PATIENT)

    response = _search(api, lonely)

    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=Action.SEARCH)
    assert (entry.actor, entry.outcome) == (lonely, Outcome.DENIED)


def test_a_patient_counts_herself(api, personas):
    bundle = fhir_json(_search(api, personas.patient_user, _summary="count"))

    assert bundle["total"] == 1
    assert "entry" not in bundle
    assert not AuditEntry.objects.filter(action=Action.PATIENT_READ).exists()
