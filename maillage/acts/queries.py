"""Reads the policy's callers run on what it opened: the acts of documents the record gate gave."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Q

from maillage.acts.models import Report
from maillage.policy.gate import RecordAccess
from maillage.records.models import Document


def encounters_of(opened: RecordAccess, documents: Iterable[Document]) -> dict[int, uuid.UUID]:
    """Document pk -> the teleconsultation (Encounter) it is the report or prescription of.

    ``documents`` come from the record's gate, of the record ``opened``.
    """
    ids = [d.pk for d in documents]
    if not ids:
        return {}
    out: dict[int, uuid.UUID] = {}
    rows = (
        Report.objects.filter(consultation__patient=opened.patient)
        .filter(Q(document_id__in=ids) | Q(prescription_id__in=ids))
        .values_list("document_id", "prescription_id", "consultation__uuid")
    )
    for document_id, prescription_id, consultation_uuid in rows:
        for pk in (document_id, prescription_id):
            if pk in ids:
                out[pk] = consultation_uuid
    return out
