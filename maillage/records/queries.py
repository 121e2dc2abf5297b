"""Reads of the record that the policy owns: each is called with what the policy opened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from maillage.policy.gate import RecordAccess
from maillage.records.models import CareTeamMember, Document

if TYPE_CHECKING:
    from maillage.directory.models import Professional
    from maillage.patients.models import Patient


@dataclass(frozen=True)
class TeamPlace:
    professional: Professional
    reason: str
    until: object | None
    member: CareTeamMember | None


def care_team_of(patient: Patient) -> list[TeamPlace]:
    """The médecin traitant, then everyone with a place in force."""
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


def professionals_known_to(patient: Patient) -> list[Professional]:
    """Professionals the patient may want to name or oppose: those already around them.

    Their care team, the authors of their documents, and the professionals
    who opened their record, from the patient's own access log.
    """
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
