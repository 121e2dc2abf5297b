from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import fhir_json, issues
from maillage.lib.ins import MatriculeProblem
from maillage.patients.identity import matricule_message
from maillage.testing import factories as f


def _ids(bundle):
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def _links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


@pytest.fixture
def leger(personas):
    return f.patient("LÉGER", "Émile", dt.date(1950, 6, 1), "M", followed_by=(personas.msp,))


@pytest.fixture
def outsider(personas):
    # Nobody of the personas follows her.
    return f.patient("GIRARDIN", "Odette", dt.date(1948, 3, 20))


def test_it_lists_only_accessible_patients_and_audits_each_one(api, personas, outsider):
    response = api.get("Patient", personas.treating_doctor, data={"family": "girard"})

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    assert _ids(bundle) == [str(personas.patient.uuid)]
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/r4/Patient/{personas.patient.uuid}"
    assert entry["search"] == {"mode": "match"}
    search = AuditEntry.objects.get(action=Action.SEARCH)
    assert search.detail == {"parameters": ["family"], "results": 1, "offset": 0}
    assert search.channel == "fhir"
    listed = AuditEntry.objects.filter(action=Action.PATIENT_SEARCH)
    assert [(e.patient, e.outcome, e.basis) for e in listed] == [
        (personas.patient, Outcome.GRANTED, "treating_doctor")
    ]
    assert not AuditEntry.objects.filter(patient=outsider).exists()


def test_it_finds_nobody_for_a_professional_without_link(api, personas, outsider):
    bundle = fhir_json(api.get("Patient", personas.cardiologist))

    assert bundle["total"] == 0
    assert "entry" not in bundle
    assert not AuditEntry.objects.filter(action=Action.PATIENT_SEARCH).exists()


def test_it_answers_403_to_the_analyst_and_audits_it(api, personas):
    response = api.get("Patient", personas.analyst, data={"family": "girard"})

    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    entry = AuditEntry.objects.get(action=Action.SEARCH)
    assert entry.outcome == Outcome.DENIED
    assert entry.actor == personas.analyst


def test_it_matches_names_without_accents_or_case(api, personas, leger):
    doctor = personas.treating_doctor

    assert _ids(fhir_json(api.get("Patient", doctor, data={"family": "leg"}))) == [str(leger.uuid)]
    assert _ids(fhir_json(api.get("Patient", doctor, data={"given": "emile"}))) == [str(leger.uuid)]
    assert _ids(fhir_json(api.get("Patient", doctor, data={"given": "Mich"}))) == [
        str(personas.patient.uuid)
    ]
    both = fhir_json(api.get("Patient", doctor, data={"family": "leger,girard"}))
    assert both["total"] == 2


@pytest.mark.parametrize(
    ("birthdate", "expected"),
    [
        ("1948", ["patient"]),
        ("1948-03", ["patient"]),
        ("1948-03-14", ["patient"]),
        ("ge1949", ["leger"]),
        ("lt1950-06-01", ["patient"]),
        ("le1950-06-01", ["leger", "patient"]),
        ("ne1948-03-14", ["leger"]),
    ],
)
def test_it_searches_by_birth_date(api, personas, leger, birthdate, expected):
    people = {"patient": personas.patient, "leger": leger}

    bundle = fhir_json(api.get("Patient", personas.treating_doctor, data={"birthdate": birthdate}))

    assert sorted(_ids(bundle)) == sorted(str(people[name].uuid) for name in expected)


def test_it_searches_by_matricule_ins(api, personas):
    matricule = personas.patient.ins_matricule
    doctor = personas.treating_doctor

    found = fhir_json(
        api.get("Patient", doctor, data={"identifier": f"urn:oid:1.2.250.1.213.1.4.10|{matricule}"})
    )
    bare = fhir_json(api.get("Patient", doctor, data={"identifier": matricule}))
    other = fhir_json(api.get("Patient", doctor, data={"identifier": f"urn:oid:1.2.3|{matricule}"}))

    assert _ids(found) == _ids(bare) == [str(personas.patient.uuid)]
    assert other["total"] == 0


def test_it_refuses_a_real_ins_system_in_a_test_environment(api, personas, settings):
    settings.MAILLAGE_INS_ENVIRONMENT = "test"
    matricule = personas.patient.ins_matricule

    response = api.get(
        "Patient",
        personas.treating_doctor,
        data={"identifier": f"urn:oid:1.2.250.1.213.1.4.8|{matricule}"},
    )

    assert response.status_code == 400
    assert issues(response)[0]["code"] == "code-invalid"


def test_it_refuses_a_matricule_with_a_wrong_key(api, personas):
    matricule = personas.patient.ins_matricule
    wrong = matricule[:13] + f"{(int(matricule[13:]) % 97) + 1:02d}"

    response = api.get("Patient", personas.treating_doctor, data={"identifier": wrong})

    assert response.status_code == 400
    with translation.override("fr"):
        assert issues(response)[0]["diagnostics"] == matricule_message(MatriculeProblem.KEY)


def test_it_pages_with_absolute_links(api, personas):
    for name in ("ARNAUD", "BERNARD", "CHEVALIER"):
        f.patient(name, "Anne", followed_by=(personas.msp,))

    first = fhir_json(api.get("Patient", personas.coordinator, data={"_count": "2"}))

    assert first["total"] == 4
    assert len(first["entry"]) == 2
    links = _links(first)
    assert links["self"] == "http://testserver/fhir/r4/Patient?_count=2&_offset=0"
    assert links["next"] == "http://testserver/fhir/r4/Patient?_count=2&_offset=2"
    assert "previous" not in links
    token = api.token(personas.coordinator)
    second = fhir_json(api.client.get(links["next"], HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert len(second["entry"]) == 2
    assert set(_ids(first)).isdisjoint(_ids(second))
    assert "next" not in _links(second)
    assert _links(second)["previous"] == "http://testserver/fhir/r4/Patient?_count=2&_offset=0"


def test_it_keeps_the_parameters_in_the_links(api, personas, settings):
    settings.MAILLAGE_PUBLIC_URL = "https://maillage.example.org/"
    for name in ("GIRAUD", "GIRAUX"):
        f.patient(name, "Anne", followed_by=(personas.msp,))

    bundle = fhir_json(
        api.get("Patient", personas.coordinator, data={"family": "gir", "_count": "1"})
    )

    links = _links(bundle)
    assert links["self"] == (
        "https://maillage.example.org/fhir/r4/Patient?family=gir&_count=1&_offset=0"
    )
    assert links["next"].endswith("Patient?family=gir&_count=1&_offset=1")
    assert bundle["entry"][0]["fullUrl"].startswith("https://maillage.example.org/fhir/r4/Patient/")


def test_it_caps_the_page_at_100(api, personas):
    bundle = fhir_json(api.get("Patient", personas.treating_doctor, data={"_count": "500"}))

    assert "_count=100" in _links(bundle)["self"]


def test_it_answers_the_total_only_for_count_0(api, personas):
    bundle = fhir_json(api.get("Patient", personas.treating_doctor, data={"_count": "0"}))

    assert bundle["total"] == 1
    assert "entry" not in bundle


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"nom": "girard"}, "nom"),
        ({"family:exact": "GIRARD"}, "family"),
        ({"_sort": "telecom"}, "_sort"),
        ({"_count": "-1"}, "_count"),
        ({"_count": "ten"}, "_count"),
        ({"_offset": "1.5"}, "_offset"),
        ({"birthdate": "14/03/1948"}, "birthdate"),
        ({"birthdate": "1948-02-30"}, "birthdate"),
        ({"family": "--"}, "family"),
    ],
)
def test_it_refuses_unknown_or_malformed_parameters(api, personas, params, named):
    response = api.get("Patient", personas.treating_doctor, data=params)

    assert response.status_code == 400
    assert named in " ".join(issue["diagnostics"] for issue in issues(response))
    assert not AuditEntry.objects.filter(action=Action.SEARCH).exists()


def test_it_lists_a_page_in_a_fixed_number_of_queries(api, personas, django_assert_max_num_queries):
    for name in ("ARNAUD", "BERNARD", "CHEVALIER", "DUPONT", "ETIENNE"):
        f.patient(
            name, "Anne", followed_by=(personas.msp,), treating_doctor=personas.treating_doctor
        )
    token = api.token(personas.treating_doctor)

    # Constant in the number of patients: the relations that grant each one
    # (médecin traitant, structure, care team, emergency opening) are one query each.
    with django_assert_max_num_queries(14):
        response = api.client.get("/fhir/r4/Patient", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert fhir_json(response)["total"] == 6
