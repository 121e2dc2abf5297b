"""No Bundle, however odd, gets a 500: every bad input answers a 4xx OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillage.fhir.tests.conftest import fhir_json
from maillage.patients.models import Patient

ODD_VALUES: list[Any] = [None, 1, 1.5, True, "", " ", [], {}, ["POST"], {"a": 1}, "x" * 3000]


def _odd_bundles() -> list[Any]:
    bundles: list[Any] = [[], "Bundle", {"resourceType": ["Bundle"]}]
    for value in ODD_VALUES:
        bundles += [
            {"resourceType": "Bundle", "type": value},
            {"resourceType": "Bundle", "type": "batch", "entry": value},
            {"resourceType": "Bundle", "type": "batch", "entry": [value]},
            {"resourceType": "Bundle", "type": "batch", "entry": [{"request": value}]},
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [{"request": {"method": value, "url": "Patient"}}],
            },
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [{"request": {"method": "GET", "url": value}}],
            },
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [
                    {
                        "fullUrl": value,
                        "resource": {"resourceType": "Patient", "managingOrganization": value},
                        "request": {"method": "POST", "url": "Patient", "ifNoneExist": value},
                    }
                ],
            },
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [
                    {
                        "resource": value,
                        "request": {"method": "PUT", "url": "Patient/1", "ifMatch": value},
                    }
                ],
            },
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [
                    {
                        "resource": {"resourceType": "Binary", "data": value, "contentType": value},
                        "request": {"method": "PATCH", "url": "Patient/1"},
                    }
                ],
            },
        ]
    return bundles


@pytest.mark.parametrize("body", _odd_bundles())
def test_an_odd_bundle_answers_in_fhir_without_a_500(api, personas, body):
    response = api.post("", body, personas.treating_doctor)

    # 501 is an answer, not a failure: an operation we lack, asked in an entry.
    assert 200 <= response.status_code < 500 or response.status_code == 501, response.content
    fhir_json(response)
    assert Patient.objects.count() == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_urls = st.sampled_from(
    [
        "Patient",
        "Patient/",
        "/",
        "Patient?family=x",
        "metadata",
        "Patient/$everything",
        "DocumentReference",
        "Patient/_history",
        "urn:uuid:1",
        "http://testserver/fhir/r4/Patient",
    ]
) | st.text(max_size=30)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["batch", "transaction"]),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    url=_urls,
    resource=_json,
    full_url=st.sampled_from(["", "urn:uuid:a", "urn:oid:1.2"]),
)
def test_generated_entries_never_get_a_500(api, personas, kind, method, url, resource, full_url):
    entry: dict[str, Any] = {"request": {"method": method, "url": url}, "resource": resource}
    if full_url:
        entry["fullUrl"] = full_url
    body = json.dumps({"resourceType": "Bundle", "type": kind, "entry": [entry]})

    response = api.post("", body, personas.treating_doctor)

    # 501 is an answer, not a failure: an operation we lack, asked in an entry.
    assert 200 <= response.status_code < 500 or response.status_code == 501, response.content
    fhir_json(response)
