"""Reads of the record that the policy owns: each is called with what the policy opened."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from maillage.policy.gate import RecordAccess
from maillage.records.models import CareTeamMember, Document, DocumentStatus

if TYPE_CHECKING:
    from maillage.directory.models import Professional


@dataclass(frozen=True)
class TeamPlace:
    professional: Professional
    reason: str
    until: object | None
    member: CareTeamMember | None


def care_team_of(opened: RecordAccess) -> list[TeamPlace]:
    """The médecin traitant, then everyone with a place in force, in an opened record."""
    patient = opened.patient
    places: list[TeamPlace] = []
    if patient.treating_doctor is not None:
        places.append(TeamPlace(patient.treating_doctor, "treating_doctor", None, None))
    members = (
        CareTeamMember.objects.filter(patient=patient, ended_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now()))
        .select_related("professional")
        .order_by("added_at")
    )
    places += [TeamPlace(m.professional, m.reason, m.valid_until, m) for m in members]
    return places


def document_history(document: Document, opened: RecordAccess) -> list[Document]:
    """Every version of a document, newest first, that this opening may see."""
    chain = [document]
    older = document.replaces
    while older is not None:
        chain.append(older)
        older = older.replaces
    newer = Document.objects.filter(replaces=document).first()
    while newer is not None:
        chain.insert(0, newer)
        newer = Document.objects.filter(replaces=newer).first()
    shown = opened.visible_ids(chain)
    return [d for d in chain if d.pk in shown]


def professionals_known_to(opened: RecordAccess) -> list[Professional]:
    """Professionals the patient may want to name or oppose: those already around them.

    Given the record the patient opened (her consents): her care team, the
    authors of her documents, and the professionals who opened her record,
    from her own access log.
    """
    patient = opened.patient
    from maillage.audit.models import AuditEntry
    from maillage.directory.models import Professional

    actor_ids = AuditEntry.objects.filter(patient=patient, actor__isnull=False).values("actor_id")
    author_ids = Document.objects.filter(patient=patient).values("author_id")
    team_ids = CareTeamMember.objects.filter(patient=patient).values("professional_id")
    return list(
        Professional.objects.filter(
            Q(user_id__in=actor_ids)
            | Q(user_id__in=author_ids)
            | Q(pk__in=team_ids)
            | Q(pk=patient.treating_doctor_id or 0)
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


def replacement_times(
    opened: RecordAccess, documents: Iterable[Document]
) -> dict[int, dt.datetime]:
    """For replaced documents handed out by an opened record, when each one was replaced."""
    replaced = [d.pk for d in documents if d.status == DocumentStatus.REPLACED]
    if not replaced:
        return {}
    return dict(
        Document.objects.filter(replaces_id__in=replaced, patient=opened.patient).values_list(
            "replaces_id", "created_at"
        )
    )


def previous_versions(opened: RecordAccess, documents: Iterable[Document]) -> dict[int, uuid.UUID]:
    """For documents handed out by an opened record, the public id of each one's former version."""
    replaced = {d.replaces_id for d in documents if d.replaces_id is not None}
    if not replaced:
        return {}
    return dict(
        Document.objects.filter(pk__in=replaced, patient=opened.patient).values_list("pk", "uuid")
    )
