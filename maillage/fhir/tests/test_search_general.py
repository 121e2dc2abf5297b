"""The parameters every search takes: _id, _lastUpdated, _sort, _total, _summary, _elements."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from maillage.audit.models import Action, AuditEntry
from maillage.fhir.search import SUBSETTED
from maillage.fhir.tests.conftest import PDF, document, fhir_json, issues
from maillage.patients.models import Patient
from maillage.testing import factories as f

pytestmark = pytest.mark.usefixtures("private_files")


def _ids(bundle):
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def _links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


def _at(text):
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def three(personas):
    """Three more patients followed by the MSP, changed at known times."""
    made = {
        "arnaud": f.patient("ARNAUD", "Anne", dt.date(1960, 1, 1), followed_by=(personas.msp,)),
        "bernard": f.patient(
            "BERNARD", "Paul", dt.date(1970, 1, 1), "M", followed_by=(personas.msp,)
        ),
        "chevalier": f.patient(
            "CHEVALIER", "Zoé", dt.date(1940, 1, 1), followed_by=(personas.msp,)
        ),
    }
    times = {
        "arnaud": "2026-11-01T09:00:00+00:00",
        "bernard": "2026-11-02T09:00:00+00:00",
        "chevalier": "2026-11-03T09:00:00+00:00",
    }
    for key, at in times.items():
        Patient.objects.filter(pk=made[key].pk).update(updated_at=_at(at))
    Patient.objects.filter(pk=personas.patient.pk).update(updated_at=_at("2026-10-01T09:00:00Z"))
    return made


def _search(api, who, path="Patient", **params):
    return api.get(path, who, data=params)


# --- _id ---------------------------------------------------------------------------


def test_it_finds_by_one_id_or_a_comma_list(api, personas, three):
    coordinator = personas.coordinator
    one = fhir_json(_search(api, coordinator, _id=str(three["bernard"].uuid)))
    several = fhir_json(
        _search(api, coordinator, _id=f"{three['bernard'].uuid},{three['arnaud'].uuid},nope")
    )

    assert _ids(one) == [str(three["bernard"].uuid)]
    assert set(_ids(several)) == {str(three["bernard"].uuid), str(three["arnaud"].uuid)}


def test_an_id_the_user_may_not_see_finds_nothing_and_leaves_no_trace_on_that_patient(
    api, personas
):
    outsider = f.patient("GIRARDIN", "Odette", dt.date(1948, 3, 20))

    bundle = fhir_json(_search(api, personas.coordinator, _id=str(outsider.uuid)))

    assert bundle["total"] == 0
    assert not AuditEntry.objects.filter(patient=outsider).exists()


def test_it_finds_a_practitioner_and_a_document_by_id(api, personas):
    doctor = personas.treating_doctor
    report = document(doctor, personas.patient, title="CR")
    document(doctor, personas.patient, "prescription", title="Ordonnance")

    practitioners = fhir_json(_search(api, doctor, "Practitioner", _id=str(doctor.uuid)))
    documents = fhir_json(
        _search(
            api,
            doctor,
            "DocumentReference",
            patient=str(personas.patient.uuid),
            _id=str(report.uuid),
        )
    )

    assert _ids(practitioners) == [str(doctor.uuid)]
    assert _ids(documents) == [str(report.uuid)]


# --- _lastUpdated ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02", ["bernard"]),
        ("gt2026-11-01", ["bernard", "chevalier"]),
        ("ge2026-11-02T09:00:00Z", ["bernard", "chevalier"]),
        ("lt2026-11-02T09:00:00Z", ["arnaud", "patient"]),
        ("le2026-11", ["arnaud", "bernard", "chevalier", "patient"]),
        ("eq2026-11-02T10:00:00+01:00", ["bernard"]),
        ("ne2026-11", ["patient"]),
    ],
)
def test_it_filters_on_the_last_update(api, personas, three, value, expected):
    bundle = fhir_json(_search(api, personas.coordinator, _lastUpdated=value))

    wanted = {**three, "patient": personas.patient}
    assert set(_ids(bundle)) == {str(wanted[k].uuid) for k in expected}


def test_it_filters_documents_on_their_creation_or_withdrawal(api, personas):
    from maillage.records import actions

    doctor = personas.treating_doctor
    old = document(doctor, personas.patient, title="Ancien", created_at=_at("2026-01-05T10:00Z"))
    new = document(doctor, personas.patient, title="Récent", created_at=_at("2026-11-05T10:00Z"))
    withdrawn = document(
        doctor, personas.patient, title="Retiré", created_at=_at("2026-01-06T10:00Z")
    )
    actions.withdraw_document(doctor.user, withdrawn, "Erreur")

    replaced = document(doctor, personas.patient, title="v1", created_at=_at("2026-01-07T10:00Z"))
    newer = actions.replace_document(
        doctor.user,
        replaced,
        actions.NewDocument("lab_results", "v2", replaced.date),
        [actions.Upload("v2.pdf", PDF)],
    )

    bundle = fhir_json(
        _search(
            api,
            doctor,
            "DocumentReference",
            patient=str(personas.patient.uuid),
            status="current,entered-in-error,superseded",
            _lastUpdated="gt2026-06",
            _sort="_lastUpdated",
        )
    )

    # Withdrawn or replaced now, filed in January: changed since June.
    assert set(_ids(bundle)) == {str(d.uuid) for d in (new, withdrawn, replaced, newer)}
    assert str(old.uuid) not in _ids(bundle)
    # The filter reads what meta.lastUpdated says, and sorts on it.
    changed = [e["resource"]["meta"]["lastUpdated"] for e in bundle["entry"]]
    assert all(_at(c) >= _at("2026-07-01T00:00+02:00") for c in changed)
    assert changed == sorted(changed, key=_at)


@pytest.mark.parametrize(
    "value", ["2026-13", "yesterday", "2026-11-02T25:00:00Z", "2026-11T10:00Z", "xx2026"]
)
def test_it_refuses_a_malformed_last_update_in_french(api, personas, value):
    response = _search(api, personas.coordinator, _lastUpdated=value)

    assert response.status_code == 400
    diagnostics = issues(response)[0]["diagnostics"]
    assert "_lastUpdated" in diagnostics
    assert "n'est pas valide" in diagnostics
    assert not AuditEntry.objects.filter(action=Action.SEARCH).exists()


def test_the_directory_filters_on_the_last_update_its_meta_says(api, personas):
    from maillage.directory.models import Practice, Professional, Structure

    Professional.objects.update(updated_at=_at("2026-01-01T00:00Z"))
    Structure.objects.update(updated_at=_at("2026-01-01T00:00Z"))
    Practice.objects.update(updated_at=_at("2026-01-01T00:00Z"))
    Professional.objects.filter(pk=personas.nurse.pk).update(updated_at=_at("2026-11-02T10:00Z"))
    Structure.objects.filter(pk=personas.hospital.pk).update(updated_at=_at("2026-11-03T10:00Z"))
    coordinator = personas.coordinator

    practitioners = fhir_json(_search(api, coordinator, "Practitioner", _lastUpdated="ge2026-11"))
    organizations = fhir_json(_search(api, coordinator, "Organization", _lastUpdated="gt2026-06"))
    # A role changes with its professional or its structure, as its meta says.
    roles = fhir_json(_search(api, coordinator, "PractitionerRole", _lastUpdated="2026-11"))

    assert _ids(practitioners) == [str(personas.nurse.uuid)]
    assert _ids(organizations) == [str(personas.hospital.uuid)]
    expected = Practice.objects.filter(professional=personas.nurse) | Practice.objects.filter(
        structure=personas.hospital
    )
    assert set(_ids(roles)) == {str(p.uuid) for p in expected}
    for entry in roles["entry"]:
        assert entry["resource"]["meta"]["lastUpdated"].startswith("2026-11")


# --- _sort -------------------------------------------------------------------------


def test_it_sorts_on_the_keys_it_lists(api, personas, three):
    coordinator = personas.coordinator

    by_birth = fhir_json(_search(api, coordinator, _sort="-birthdate"))
    by_update = fhir_json(_search(api, coordinator, _sort="_lastUpdated"))
    by_family = fhir_json(_search(api, coordinator, _sort="-family"))

    order = ["bernard", "arnaud", "patient", "chevalier"]
    wanted = {**three, "patient": personas.patient}
    assert _ids(by_birth) == [str(wanted[k].uuid) for k in order]
    assert _ids(by_update) == [
        str(wanted[k].uuid) for k in ("patient", "arnaud", "bernard", "chevalier")
    ]
    assert _ids(by_family) == [
        str(wanted[k].uuid) for k in ("patient", "chevalier", "bernard", "arnaud")
    ]


def test_it_sorts_on_several_keys(api, personas):
    for first in ("Basile", "Adèle"):
        f.professional(f"p.{first}", last_name="Aubert", first_name=first)
    f.professional("p.zed", last_name="Zola", first_name="Aline")

    bundle = fhir_json(_search(api, personas.coordinator, "Practitioner", _sort="family,-given"))

    names = [
        (e["resource"]["name"][0]["family"], e["resource"]["name"][0]["given"][0])
        for e in bundle["entry"]
    ]
    assert names[:2] == [("Aubert", "Basile"), ("Aubert", "Adèle")]
    assert names[-1] == ("Zola", "Aline")


def test_it_sorts_documents_in_memory(api, personas):
    doctor = personas.treating_doctor
    first = document(doctor, personas.patient, title="1", created_at=_at("2026-01-05T10:00Z"))
    second = document(doctor, personas.patient, title="2", created_at=_at("2026-02-05T10:00Z"))

    ascending = fhir_json(
        _search(api, doctor, "DocumentReference", patient=str(personas.patient.uuid), _sort="date")
    )
    descending = fhir_json(
        _search(api, doctor, "DocumentReference", patient=str(personas.patient.uuid), _sort="-date")
    )

    assert _ids(ascending) == [str(first.uuid), str(second.uuid)]
    assert _ids(descending) == [str(second.uuid), str(first.uuid)]


def test_it_refuses_an_unknown_sort_key_listing_the_accepted_ones_in_french(api, personas):
    response = _search(api, personas.coordinator, _sort="family,-telecom")

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "not-supported"
    assert issue["diagnostics"] == (
        "La valeur « -telecom » de _sort n'est pas prise en charge. Valeurs acceptées : "
        "family, given, birthdate, _lastUpdated, _id."
    )
    assert not AuditEntry.objects.filter(action=Action.SEARCH).exists()


def test_the_links_carry_the_result_parameters(api, personas, three):
    bundle = fhir_json(
        _search(api, personas.coordinator, _sort="-birthdate", _elements="birthDate", _count="2")
    )

    links = _links(bundle)
    assert "_sort=-birthdate" in links["next"]
    assert "_elements=birthDate" in links["next"]
    token = api.token(personas.coordinator)
    second = fhir_json(api.client.get(links["next"], HTTP_AUTHORIZATION=f"Bearer {token}"))
    wanted = {**three, "patient": personas.patient}
    assert _ids(second) == [str(wanted[k].uuid) for k in ("patient", "chevalier")]


# --- _total and _summary -----------------------------------------------------------


def test_it_leaves_the_total_out_when_asked(api, personas, three):
    none = fhir_json(_search(api, personas.coordinator, _total="none"))
    accurate = fhir_json(_search(api, personas.coordinator, _total="accurate"))
    fhirpy = fhir_json(_search(api, personas.coordinator, _totalMethod="count", _count="0"))

    assert "total" not in none
    assert len(none["entry"]) == 4
    assert accurate["total"] == 4
    assert fhirpy["total"] == 4
    assert "entry" not in fhirpy


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"_total": "exact"}, "_total"),
        ({"_totalMethod": "guess"}, "_totalMethod"),
        ({"_summary": "true"}, "_summary"),
        ({"_elements": "name;birthDate"}, "_elements"),
        ({"_elements": ",,"}, "_elements"),
    ],
)
def test_it_refuses_bad_result_parameters(api, personas, params, named):
    response = _search(api, personas.coordinator, **params)

    assert response.status_code == 400
    assert named in issues(response)[0]["diagnostics"]


def test_it_counts_without_showing_anyone(api, personas, three):
    bundle = fhir_json(_search(api, personas.coordinator, _summary="count"))

    assert bundle["total"] == 4
    assert "entry" not in bundle
    assert set(bundle) == {"resourceType", "type", "total", "link"}
    # The search is audited; nobody was shown, so no patient's trail is written.
    (search,) = AuditEntry.objects.filter(action=Action.SEARCH)
    assert search.detail["results"] == 4
    assert not AuditEntry.objects.filter(action=Action.PATIENT_SEARCH).exists()


def test_it_counts_documents(api, personas):
    document(personas.treating_doctor, personas.patient, title="CR")

    bundle = fhir_json(
        _search(
            api,
            personas.treating_doctor,
            "DocumentReference",
            patient=str(personas.patient.uuid),
            _summary="count",
        )
    )

    assert bundle["total"] == 1
    assert "entry" not in bundle


# --- _elements -----------------------------------------------------------------------


def test_it_keeps_only_the_elements_asked_for_and_tags_the_subset(api, personas):
    bundle = fhir_json(_search(api, personas.coordinator, _elements="birthDate,gender"))

    resource = bundle["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "birthDate", "gender"}
    assert SUBSETTED in resource["meta"]["tag"]
    assert resource["meta"]["profile"]  # meta is kept whole


def test_it_keeps_mandatory_elements_so_that_the_resource_stays_valid(api, personas):
    document(personas.treating_doctor, personas.patient, title="CR")

    response = _search(
        api,
        personas.treating_doctor,
        "DocumentReference",
        patient=str(personas.patient.uuid),
        _elements="description",
    )

    resource = fhir_json(response)["entry"][0]["resource"]  # validated as R4B
    assert set(resource) == {"resourceType", "id", "meta", "description", "status", "content"}


def test_it_drops_the_elements_named_after_a_minus(api, personas):
    # fhirpy's elements(..., exclude=True) sends "-name,...".
    response = _search(api, personas.coordinator, _elements="-telecom,address")

    resource = json.loads(response.content)["entry"][0]["resource"]
    assert "telecom" not in resource
    assert "address" not in resource
    assert "birthDate" in resource
    assert SUBSETTED in resource["meta"]["tag"]


# --- the other routes take them too ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "who", "params"),
    [
        ("Practitioner", "coordinator", {"_sort": "-given", "_total": "none"}),
        ("PractitionerRole", "coordinator", {"_sort": "organization,-_id"}),
        ("Organization", "coordinator", {"_sort": "-name", "_elements": "name"}),
        ("Location", "coordinator", {"_sort": "address-city", "_summary": "count"}),
        ("Location", "coordinator", {"near": "47.08|2.40|200", "_sort": "-name"}),
        ("Consent", "patient_user", {"_sort": "-_lastUpdated", "_lastUpdated": "gt2020"}),
        ("AuditEvent", "patient_user", {"_sort": "_id", "_lastUpdated": "gt2020"}),
        ("Communication", "treating_doctor", {"_sort": "-sent", "_lastUpdated": "gt2020"}),
    ],
)
def test_every_search_route_takes_the_general_parameters(api, personas, path, who, params):
    response = _search(api, personas.user(who), path, **params)

    assert response.status_code == 200, response.content
    assert fhir_json(response)["type"] == "searchset"


def test_location_near_sorted_by_name(api, personas):
    bundle = fhir_json(
        _search(api, personas.coordinator, "Location", near="47.08|2.40|200", _sort="-name")
    )

    names = [e["resource"]["name"] for e in bundle["entry"]]
    assert names == sorted(names, reverse=True)
    assert len(names) >= 2


# --- no value is a 500 ---------------------------------------------------------------

ODD_VALUES = [
    {"_include": "DocumentReference:author:"},
    {"_include": "::"},
    {"_sort": ","},
    {"_sort": "-"},
    {"_elements": "-"},
    {"_elements": "a" * 200},
    {"_lastUpdated": "2026-11-02T10:00:00.1234567Z"},
    {"_lastUpdated": "9999-12-31T23:59:59-14:00"},
    {"_lastUpdated": "gt9999"},
    {"_lastUpdated": "0000"},
    {"_lastUpdated": "2026-01-01T10:00+99:99"},
    {"_lastUpdated": "2026-01-01T10:00 01:00"},  # a '+' the client left unencoded
    {"_id": "," * 50},
    {"_total": ""},
    {"_revinclude": "DocumentReference:subject:Patient"},
    {"_include": "DocumentReference:subject", "_count": "0"},
]


@pytest.mark.parametrize("params", ODD_VALUES)
@pytest.mark.parametrize("path", ["Patient", "DocumentReference", "PractitionerRole", "Location"])
def test_odd_values_get_a_4xx_or_an_answer_never_a_500(api, personas, path, params):
    data = dict(params)
    if path == "DocumentReference":
        data.setdefault("patient", str(personas.patient.uuid))

    response = api.get(path, personas.treating_doctor, data=data)

    assert response.status_code in (200, 400), response.content
    fhir_json(response)
