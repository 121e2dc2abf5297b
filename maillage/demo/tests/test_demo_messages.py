"""The demo conversations: sent once, through the gates, with a sealed attachment."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from maillage.accounts.models import User
from maillage.audit.models import Action, AuditEntry
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.files import storage
from maillage.messaging.models import Delivery, Message, Thread

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.mark.django_db(transaction=True)
def test_the_doctor_finds_a_read_thread_about_her_patient_and_an_unread_one(capsys) -> None:
    call_command("load_demo")
    call_command("load_demo")
    capsys.readouterr()
    doctor = User.objects.get(username="medecin.traitant")
    patient = User.objects.get(username="patient").patient_record

    # The tele-expertise opinions she received are threads too (test_demo_expertise).
    threads = (
        Thread.objects.filter(participants__user=doctor)
        .exclude(subject__startswith="Avis de télé-expertise")
        .order_by("created_at")
    )
    assert [t.subject for t in threads] == [
        "Tension élevée de Mme Berthon",
        "Rupture d'amlodipine 5 mg",
    ]
    about_patient, no_patient = threads
    assert about_patient.patient == patient
    assert no_patient.patient is None
    assert Message.objects.filter(thread=about_patient).count() == 2
    attachment = Message.objects.filter(thread=about_patient).earliest("sent_at").attachments.get()
    assert storage.read(attachment.file).startswith(b"%PDF-1.4")
    unread = Delivery.objects.filter(user=doctor, read_at__isnull=True, message__thread__in=threads)
    assert [d.message.thread for d in unread] == [no_patient]
    sent = AuditEntry.objects.filter(action=Action.MESSAGE_SEND, patient=patient)
    assert sent.filter(actor__username__in=["infirmier", "medecin.traitant"]).count() == 2
