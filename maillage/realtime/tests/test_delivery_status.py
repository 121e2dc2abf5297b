"""A mail that leaves Maillage (or cannot) is told live to the conversation's members."""

from __future__ import annotations

import pytest

from maillage.messaging import actions
from maillage.messaging.models import DeliveryStatus
from maillage.messaging.tests.conftest import private_files  # noqa: F401 (autouse fixture)
from maillage.realtime.events import DELIVERY_STATUS
from maillage.realtime.models import UserEvent

pytestmark = pytest.mark.django_db

OUTSIDE = "secretariat@ch-vierzon.mssante.fr"


def test_the_members_are_told_the_outside_mail_left_with_ids_only(
    personas, django_capture_on_commit_callbacks
) -> None:
    # The mail task is queued after the commit (run in place under pytest).
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.send_message(
            personas.nurse.user,
            actions.Draft(
                subject="Pansement de Mme Girard",
                body="Plaie du talon à revoir.",
                professionals=[personas.treating_doctor],
                addresses=[OUTSIDE],
                patient_uuid=personas.patient.uuid,
            ),
        )

    delivery = message.deliveries.get(user__isnull=True)
    assert delivery.status == DeliveryStatus.SENT
    told = UserEvent.objects.filter(kind=DELIVERY_STATUS)
    assert {e.user_id for e in told} == {
        personas.nurse.user.pk,
        personas.treating_doctor.user.pk,
    }
    # Identifiers and a status: no address, no subject, no patient.
    assert all(e.data == {"thread": str(message.thread.uuid), "status": "sent"} for e in told)


def test_a_message_without_outside_recipients_tells_nothing(personas) -> None:
    actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement",
            body="Plaie du talon à revoir.",
            professionals=[personas.treating_doctor],
        ),
    )
    assert not UserEvent.objects.filter(kind=DELIVERY_STATUS).exists()
