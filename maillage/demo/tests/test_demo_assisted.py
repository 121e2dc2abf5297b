"""The demo's assisted teleconsultations: both vans of Loir-et-Cher and a pharmacy booth held,
with their readings, captures and closed reports, through the actions; the nurse's coming visit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from maillage.accounts.models import User
from maillage.acts.models import RecordedAct, Report, ReportStatus
from maillage.assisted.models import ActCode, Assistance
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.demo import assisted as demo
from maillage.demo import generate as gen
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.directory.models import EquipmentKind, StructureKind
from maillage.files import storage
from maillage.measurements.models import Media, MediaKind, Method, Observation
from maillage.records.models import Document, DocumentType
from maillage.teleconsult.models import Consultation, ParticipantRole, Status
from maillage.teleconsult.tests.test_pages import client_for
from maillage.testing.factories import page_text

pytestmark = [pytest.mark.django_db, DEMO_ON_SQLITE]

BLOOD_PRESSURE, SPO2 = "85354-9", "2708-6"


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def _held() -> list[Assistance]:
    return list(
        Assistance.objects.filter(participant__consultation__status=Status.FINISHED)
        .select_related(
            "place__commune",
            "professional__user",
            "participant__consultation__patient",
            "participant__consultation__doctor__user",
        )
        .order_by("participant__consultation__started_at")
    )


def _counts() -> dict[str, int]:
    return {
        "acts": Consultation.objects.count(),
        "assistances": Assistance.objects.count(),
        "readings": Observation.objects.count(),
        "media": Media.objects.count(),
        "reports": Report.objects.count(),
    }


def test_the_demo_holds_assisted_acts_and_a_coming_visit_once(capsys: Any) -> None:
    # One test: loading the demo is the suite's dearest setup.
    call_command("load_demo")
    counts = _counts()
    call_command("load_demo")
    capsys.readouterr()
    assert _counts() == counts
    _vans_and_booth_held_through_the_actions()
    _the_demo_patient_had_one_with_blood_pressure_spo2_and_an_ecg()
    _the_nurse_sees_her_coming_visit_on_her_pages()


def _vans_and_booth_held_through_the_actions() -> None:
    held = _held()
    places = {a.place.uuid: a.place for a in held if a.place is not None}
    vans = [p for p in places.values() if p.kind == StructureKind.MOBILE_UNIT]
    # Both vans of Loir-et-Cher, with what they measure with; the booth of a pharmacy.
    assert {p.uuid for p in vans if p.commune.departement == "41"} == {
        gen.stable_uuid("structure", "um-perche"),
        gen.stable_uuid("structure", "um-sologne"),
    }
    for van in vans:
        kit = set(van.equipment.values_list("kind", flat=True))
        assert {EquipmentKind.BP_MONITOR, EquipmentKind.OXIMETER, EquipmentKind.ECG} <= kit
    booth = [a for a in held if a.act_code == ActCode.PHARMACIST]
    assert len(booth) == 1 and booth[0].place is not None
    assert booth[0].place.kind == StructureKind.PHARMACY
    assert booth[0].professional is not None
    assert booth[0].professional.user == User.objects.get(username="pharmacien")
    assert len(held) == len(demo.SESSIONS)

    for assistance in held:
        act = assistance.participant.consultation
        nurse = assistance.professional.user if assistance.professional else None
        assert nurse is not None and assistance.participant.user == nurse
        readings = list(Observation.objects.filter(encounter=act).select_related("device"))
        media = list(Media.objects.filter(encounter=act).select_related("file"))
        assert readings and media
        items: list[Observation | Media] = [*readings, *media]
        for item in items:
            # Taken by the assistant during the act, with the place's device.
            assert item.patient == act.patient and item.performer == nurse
            assert item.device is not None and item.device.system_id
        assert act.started_at is not None and act.ended_at is not None
        for reading in readings:
            assert act.started_at <= reading.effective_at <= act.ended_at
            assert reading.method == Method.BLUETOOTH
        # Each written through the policy: one granted entry naming it, by the assistant.
        for reading in readings:
            assert (
                AuditEntry.objects.filter(
                    actor=nurse,
                    patient=act.patient,
                    action=Action.OBSERVATION_WRITE,
                    outcome=Outcome.GRANTED,
                    detail__observation=str(reading.uuid),
                ).count()
                == 1
            )
        # The doctor's marks: a significant capture in each act.
        assert any(m.significant for m in media)
        # The report closed by the doctor: filed in the record, the act recorded.
        report = Report.objects.get(consultation=act)
        assert report.status == ReportStatus.CLOSED and report.problem == ""
        assert report.author == act.doctor.user
        assert (
            report.document is not None
            and Document.objects.filter(
                pk=report.document.pk, type=DocumentType.TELECONSULTATION_REPORT
            ).exists()
        )
        recorded = RecordedAct.objects.get(report=report)
        assert ParticipantRole.ASSISTANT in {p["role"] for p in recorded.participants}


def _the_demo_patient_had_one_with_blood_pressure_spo2_and_an_ecg() -> None:
    patient_user = User.objects.get(username="patient")
    acts = [
        a.participant.consultation
        for a in _held()
        if a.participant.consultation.patient.user_id == patient_user.pk
    ]
    assert len(acts) == 1
    act = acts[0]
    codes = set(Observation.objects.filter(encounter=act).values_list("code", flat=True))
    assert {BLOOD_PRESSURE, SPO2} <= codes
    pressure = Observation.objects.filter(encounter=act, code=BLOOD_PRESSURE).first()
    assert pressure is not None
    assert {c["code"] for c in pressure.components} >= {"8480-6", "8462-4"}
    ecg = Media.objects.get(encounter=act, kind=MediaKind.ECG)
    assert storage.read(ecg.file).startswith(b"%PDF-")
    assert ecg.device is not None and ecg.device.kind == "ecg"
    # Her first report stays that of her teleconsultation at home.
    assert (
        Report.objects.filter(
            consultation__patient__user=patient_user, status=ReportStatus.CLOSED
        ).count()
        == 2
    )

    # She sees the readings of her record; a photo of another act is a real picture.
    photo = Media.objects.filter(kind=MediaKind.PHOTO).select_related("file").first()
    assert photo is not None
    assert storage.read(photo.file)[:3] in (b"\xff\xd8\xff", b"\x89PN")


def _the_nurse_sees_her_coming_visit_on_her_pages() -> None:
    nurse = User.objects.get(username="infirmier")
    coming = Assistance.objects.select_related("participant__consultation__patient").get(
        participant__user=nurse, participant__consultation__status=Status.PLANNED
    )
    act = coming.participant.consultation
    assert act.planned_start is not None and coming.place is not None
    assert coming.place.kind == StructureKind.MOBILE_UNIT

    page = client_for(nurse)
    listed = page_text(page.get("/teleconsultation/"))
    assert act.patient.display_name in listed
    opened = page.get(f"/teleconsultation/{act.uuid}/")
    assert opened.status_code == 200
    # A nurse without a place in it does not see it listed.
    other = User.objects.get(username="infirmiere.perche")
    assert act.patient.display_name not in page_text(client_for(other).get("/teleconsultation/"))
