"""The act's report holds its readings and marked photos without retyping; the patient sees them.

The nurse sends a cuff reading, a typed SpO2 (then one she marks entered in
error), an otoscope photo and an ECG; the doctor marks the photo and closes
the report. The PDF's page (``write_once.report_html``, what WeasyPrint
prints) lists the readings in a table and embeds the marked photo; the PDF
holds the image; the patient's documents page lists the act's readings and
media.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from maillage.acts import actions as acts
from maillage.acts import write_once
from maillage.acts.models import RecordedAct
from maillage.acts.tests.conftest import CONTENT
from maillage.assisted import room
from maillage.assisted.tests.test_assisted import cuff, nurse_seat, to
from maillage.assisted.tests.test_captures import PDF, post
from maillage.audit.models import Action, AuditEntry
from maillage.files import storage
from maillage.measurements import actions as measurements
from maillage.measurements.models import Media, Observation, Status
from maillage.policy import teleconsult as policy
from maillage.teleconsult.tests.test_pages import client_for
from maillage.testing.pdf import pdf_image_count, pdf_text

pytestmark = pytest.mark.django_db


def real_jpeg() -> bytes:
    """A photo WeasyPrint can draw (the storage tests' JPEG is a header only)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 60)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def closed(personas, act):
    seat = nurse_seat(act)
    room.send_reading(seat, cuff())
    manual = {"source": "manual", "kind": "spo2", "unit": "%", "systolic": "", "diastolic": ""}
    room.send_reading(seat, {**manual, "value": "97"})
    wrong = to(room.send_reading(seat, {**manual, "value": "71"}), act.nurse)["readings"][0]
    reading = Observation.objects.get(uuid=wrong["observation"])
    measurements.correct_observation(
        personas.nurse.user,
        reading.uuid,
        measurements.NewReading(
            code="2708-6",
            value=Decimal(71),
            unit="%",
            effective_at=reading.effective_at,
            encounter=act.consultation.uuid,
        ),
        status=Status.ENTERED_IN_ERROR,
    )
    assert (
        post(personas.nurse.user, act, "oreille.jpg", real_jpeg(), what="otoscope").status_code
        == 201
    )
    assert post(personas.nurse.user, act, "ecg.pdf", PDF, what="ecg").status_code == 201
    photo = Media.objects.get(kind="photo")
    doctor = policy.take_seat(act.doctor, act.consultation.uuid)
    room.mark_media(doctor, str(photo.uuid), True)
    report = acts.close(personas.treating_doctor.user, act.consultation.uuid, CONTENT)
    return report, RecordedAct.objects.get(report=report)


def test_the_report_lists_the_readings_and_embeds_the_marked_photo(personas, act, closed) -> None:
    report, recorded = closed
    html = write_once.report_html(report, recorded)
    start = html.index("data-act-readings")
    table = html[start : html.index("</table>", start)]
    for expected in ("Pression artérielle", "120/80 mmHg", "97 %", "72 /min", "Omron M7"):
        assert expected in table, expected
    assert "71 %" not in html  # entered in error: left out
    assert "appareil Bluetooth" in table and "saisie manuelle" in table
    assert table.count("significative") == 0  # no reading marked; the photo is
    assert personas.nurse.display_name in table
    assert "data:image/jpeg;base64," in html  # the marked photo, embedded
    assert "ECG " in html[html.index("data-act-media") :]  # the tracing, by its title
    # The PDF filed in the record, read back as its reader would: the table's text and the photo.
    assert report.document is not None
    filed = storage.read(report.document.document_files.get().file)
    text = " ".join(pdf_text(filed).split())
    for expected in ("Pression artérielle", "120/80 mmHg", "97 %", "72 /min", "Omron M7"):
        assert expected in text, expected
    assert "71 %" not in text
    assert pdf_image_count(filed) >= 1
    # Gathered for the author through the policy: her read is written.
    assert AuditEntry.objects.filter(
        actor=personas.treating_doctor.user,
        action=Action.OBSERVATION_READ,
        detail__report=True,
        detail__consultation=str(act.consultation.uuid),
    ).exists()


def test_the_patient_sees_the_act_s_readings_and_media_in_her_record(personas, act, closed) -> None:
    page = client_for(personas.patient_user).get("/dossier/mes-documents/")
    text = page.content.decode()
    assert "120/80 mmHg" in text and "97 %" in text
    assert "Photo d’otoscope" in text and "ECG " in text
    assert "/mesures/media/" in text


def test_the_report_page_shows_the_table_to_its_doctor(personas, act, closed) -> None:
    page = client_for(personas.treating_doctor.user).get(
        f"/actes/{act.consultation.uuid}/compte-rendu/"
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Mesures de l’acte" in text and "120/80 mmHg" in text
