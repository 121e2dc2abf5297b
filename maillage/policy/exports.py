"""Bulk export ($export): the patients a requester's export holds, and its audit entries.

The export lists patients with the filter the search uses (rules 1 to 4 of
``decide`` as a query, ``visible_patients_q``) for the purpose BULK_EXPORT,
whose row in the table is the identity-reading row without emergency
openings and regulation cases. For each patient listed, the record is
decided as reading it is (RECORD_READ, then the document rules through
``RecordAccess.documents``), and her readings and media as reading them is
(OBSERVATION_READ, then ``ReadingsAccess``: which acts' readings the
relation shows), so an export never holds a document or a reading that its
requester could not read through the API.

Audit: one entry per patient whose data left in the export, written when
the export's files are complete (granted, naming the job and what was
exported), or marked failed when the job could not finish; so each
patient's access log says who exported her data and when. A patient of
whom nothing was exported (nothing changed since ``_since``) gets none, as
a search records only the patients it shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.measurements.models import Media, Observation
from maillage.patients.models import Patient
from maillage.policy.decide import Subject, decide
from maillage.policy.gate import RecordAccess, visible_patients_q
from maillage.policy.measurements import ReadingsAccess
from maillage.policy.relations import REASONED, Relation, relations_to
from maillage.policy.table import allowed_relations

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.records.models import Document

CHUNK = 200


@dataclass(frozen=True)
class PatientExport:
    """One patient as an export may hold her: identity, and the record when it may be read."""

    patient: Patient
    relation: Relation
    record: RecordAccess | None

    def documents(self) -> list[Document]:
        """Every version the requester may see, withdrawn and replaced ones included."""
        if self.record is None:
            return []
        return self.record.documents(include_history=True)

    def readings(self, user: User) -> ReadingsAccess | None:
        """Her readings and media as the requester may read them through the API (decided as
        OBSERVATION_READ is, then ``ReadingsAccess`` says which), or None; decided when an
        export holds Observation or Media, audited by ``exported``."""
        subject = self.record.subject if self.record is not None else Subject.of(user, self.patient)
        decision = decide(subject, Action.OBSERVATION_READ)
        if not decision.granted or decision.relation is None or decision.relation in REASONED:
            return None
        return ReadingsAccess(subject, decision.relation)


def patients_holding_readings() -> frozenset[int]:
    """The ids of the patients who hold any reading or medium (ids only, no data): an
    export asks ``PatientExport.readings`` only for them, so that the many without any
    cost neither a decision nor a query."""
    observed = Observation.objects.values_list("patient_id", flat=True).distinct()
    pictured = Media.objects.values_list("patient_id", flat=True).distinct()
    return frozenset(observed) | frozenset(pictured)


def may_export(user: User) -> bool:
    return bool(allowed_relations(user, Action.BULK_EXPORT))


def export_patients(user: User) -> Iterator[PatientExport]:
    """The patients the user may export, in chunks (nothing is audited here: see ``exported``)."""
    wanted = allowed_relations(user, Action.BULK_EXPORT)
    if not wanted:
        return
    patients = (
        Patient.objects.filter(visible_patients_q(user, Action.BULK_EXPORT))
        .select_related("commune", "treating_doctor", "user")
        .order_by("pk")
    )
    last = 0
    while True:
        batch = list(patients.filter(pk__gt=last)[:CHUNK])
        if not batch:
            return
        last = batch[-1].pk
        relations = relations_to(user, batch, wanted)
        for patient in batch:
            relation = relations.get(patient.pk)
            if relation is not None:
                yield _export_of(user, patient, relation)


def _export_of(user: User, patient: Patient, relation: Relation) -> PatientExport:
    subject = Subject.of(user, patient)
    reading = decide(subject, Action.RECORD_READ)
    record = None
    if reading.granted and reading.relation is not None and reading.relation not in REASONED:
        record = RecordAccess(subject, reading.relation)
    return PatientExport(patient, relation, record)


def exported(
    user: User,
    items: Sequence[tuple[PatientExport, Mapping[str, Any]]],
    *,
    job: str,
    failure: str = "",
) -> None:
    """One entry per patient exported: done with what left, or failed and why."""
    outcome = Outcome.FAILED if failure else Outcome.GRANTED
    extra = {"failure": failure} if failure else {}
    record_many(
        user,
        [
            Event(
                action=Action.BULK_EXPORT,
                outcome=outcome,
                patient=item.patient,
                basis=item.relation,
                detail={"job": job, **detail, **extra},
            )
            for item, detail in items
        ],
    )
