"""The patient's latest readings as a request's context: picked, not retyped; shown as the
measurements' rule says to each reader; in the opinion; in the ServiceRequest."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from maillage.expertise import actions
from maillage.expertise.models import Recommendation, Request
from maillage.files import storage
from maillage.front.tests.test_home import signed_in
from maillage.measurements import actions as measurements
from maillage.measurements.models import Observation
from maillage.measurements.models import Status as ReadingStatus
from maillage.measurements.tests.conftest import blood_pressure, spo2
from maillage.messaging.tests.conftest import fr
from maillage.records.models import Consent, ConsentKind
from maillage.testing import factories as f
from maillage.testing.pdf import pdf_text

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _readings(personas: Any) -> tuple[Observation, Observation]:
    """The médecin traitant's own readings of her patient: a pressure and a saturation."""
    gp = personas.treating_doctor.user
    pressure = measurements.record_observation(gp, personas.patient, blood_pressure("152", "94"))
    saturation = measurements.record_observation(gp, personas.patient, spo2("91"))
    return pressure, saturation


def _asked(personas: Any, dermatology: Any, readings: list[Observation]) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Œdèmes des chevilles sous amlodipine. Avis ?",
            priority="routine",
            pool_uuid=dermatology.pool.uuid,
            reading_uuids=[r.uuid for r in readings],
            consent=True,
        ),
    )
    return actions.submit(gp, draft.uuid)


def test_the_gp_picks_a_reading_on_the_ask_page_and_the_specialist_sees_only_it(
    personas: Any, dermatology: Any
) -> None:
    pressure, _saturation = _readings(personas)
    gp = signed_in(personas.treating_doctor.user)
    ask_url = f"/teleexpertise/demander/{personas.patient.uuid}/"
    page = _text(gp.get(ask_url))
    assert fr("Latest measurements (shared with the specialist)") in page
    assert "152/94 mmHg" in page and "91 %" in page

    response = gp.post(
        ask_url,
        {
            "question": "Œdèmes des chevilles sous amlodipine. Avis ?",
            "pool": str(dermatology.pool.uuid),
            "priority": "routine",
            "readings": [str(pressure.uuid)],
            "consent": "on",
            "send": "1",
        },
    )
    assert response.status_code == 302
    item = Request.objects.get()
    assert list(item.readings.all()) == [pressure]

    member = _text(signed_in(dermatology.first.user).get(f"/teleexpertise/{item.uuid}/"))
    assert fr("Measurements shared") in member
    assert "152/94 mmHg" in member
    assert "91 %" not in member
    # A stranger to the request sees nothing of it.
    assert (
        signed_in(personas.cardiologist.user).get(f"/teleexpertise/{item.uuid}/").status_code == 404
    )


def test_a_draft_keeps_its_readings_ticked(personas: Any, dermatology: Any) -> None:
    pressure, _saturation = _readings(personas)
    gp_user = personas.treating_doctor.user
    draft = actions.save_draft(
        gp_user,
        personas.patient.uuid,
        actions.Ask(question="Brouillon", reading_uuids=[pressure.uuid]),
    )
    page = signed_in(gp_user).get(f"/teleexpertise/{draft.uuid}/brouillon/").content.decode()
    box = re.search(rf'<input[^>]*value="{pressure.uuid}"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)


def test_a_reading_of_another_patient_is_refused_in_french_and_nothing_is_sent(
    personas: Any, dermatology: Any
) -> None:
    other = f.patient("Autre", "Patiente", treating_doctor=personas.treating_doctor)
    elsewhere = measurements.record_observation(
        personas.treating_doctor.user, other, blood_pressure()
    )
    gp = signed_in(personas.treating_doctor.user)
    response = gp.post(
        f"/teleexpertise/demander/{personas.patient.uuid}/",
        {
            "question": "Avis ?",
            "pool": str(dermatology.pool.uuid),
            "priority": "routine",
            "readings": [str(elsewhere.uuid)],
            "consent": "on",
            "send": "1",
        },
    )
    assert response.status_code == 400
    assert fr("A chosen measurement is not in this record.") in _text(response)
    assert not Request.objects.exists()
    # Through the action too, and for a reading of hers entered in error.
    with pytest.raises(actions.ExpertiseRuleBroken):
        _asked(personas, dermatology, [elsewhere])
    pressure, _saturation = _readings(personas)
    wrong = measurements.correct_observation(
        personas.treating_doctor.user,
        pressure.uuid,
        blood_pressure("152", "94"),
        status=ReadingStatus.ENTERED_IN_ERROR,
    )
    assert wrong.status == ReadingStatus.ENTERED_IN_ERROR
    with pytest.raises(actions.ExpertiseRuleBroken):
        _asked(personas, dermatology, [wrong])
    assert not Request.objects.exists()


def test_a_refusal_of_sharing_hides_a_shared_reading_from_the_specialist(
    personas: Any, dermatology: Any
) -> None:
    pressure, _saturation = _readings(personas)
    item = _asked(personas, dermatology, [pressure])
    Consent.objects.create(
        patient=personas.patient,
        kind=ConsentKind.SHARING,
        granted=False,
        recorded_by=personas.patient_user,
    )
    url = f"/teleexpertise/{item.uuid}/"
    member = _text(signed_in(dermatology.first.user).get(url))
    assert "Œdèmes des chevilles" in member and "152/94 mmHg" not in member
    # Her médecin traitant took it: she still sees it in her own request.
    assert "152/94 mmHg" in _text(signed_in(personas.treating_doctor.user).get(url))


def test_the_opinion_lists_the_readings_its_author_saw(personas: Any, dermatology: Any) -> None:
    pressure, _saturation = _readings(personas)
    item = _asked(personas, dermatology, [pressure])
    specialist = dermatology.first.user
    actions.claim(specialist, item.uuid)
    actions.conclude(
        specialist,
        item.uuid,
        actions.Conclusion("Œdèmes liés à l'amlodipine probable.", Recommendation.NONE),
    )
    item.refresh_from_db()
    assert item.opinion is not None
    filed = storage.read(item.opinion.document_files.get().file)
    text = " ".join(pdf_text(filed).split())
    assert "152/94 mmHg" in text
    assert "91 %" not in text
