"""Measurements in the one policy: who reads and records a patient's readings.

The table says who may ever do OBSERVATION_READ and OBSERVATION_WRITE, on
which relations: the record's readers read them; the care team (and the
médecin traitant) record them; a professional with a place in an act of the
patient (``Relation.TELECONSULTATION``) reads and records for that act. Past
the relation, the rules here:

- ``encounter_required`` — a professional whose only tie to the patient is
  an act records a reading *for* that act: it must name it;
- ``other_patient`` — the act named is not this patient's (or no act);
- ``not_participant`` — the user has no place in the act named (a reading is
  never attached to somebody else's act);
- ``closed`` — an act's seat writes only while the act is open; a care-team
  member names an act she took part in while it grants her a place;
- ``not_shown`` — a reading the user may not see (another act's, or, when
  the patient refused sharing, one the user neither took nor saw taken in
  her act) is neither read nor changed;
- ``not_performer`` — a reading's values are corrected by who took it;
- ``not_doctor`` — only a doctor marks a reading as significant;
- ``not_in_room`` — a reading (or medium, or mark) pushed live goes to a
  participant only while she is in the act's room (the doctor, or admitted
  and not gone, the act under way);
- ``not_live`` — only the act's doctor and the professionals beside the
  patient, with an account, are shown readings live: not the patient (her
  record shows them), a relative, an interpreter, a guest.

Every opening leaves one audit entry (a read when handed over, a change when
the action closes its ``Grant``); a refusal is audited at once with its rule
and looks like "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from maillage.accounts.models import Role
from maillage.audit.actions import Event, record, record_many
from maillage.audit.models import Action, Outcome
from maillage.measurements.models import Media, Observation
from maillage.measurements.models import Status as ReadingStatus
from maillage.policy.decide import Decision, Subject, decide
from maillage.policy.gate import (
    Grant,
    PatientNotFound,
    RecordAccess,
    audit_decision,
    load_patient,
)
from maillage.policy.gate import (
    audit_event as gate_event,
)
from maillage.policy.relations import Relation
from maillage.policy.teleconsult import load as load_act
from maillage.policy.teleconsult import participating
from maillage.teleconsult.models import Consultation, Participant, ParticipantRole
from maillage.teleconsult.models import Status as ActStatus

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.files.models import StoredFile
    from maillage.patients.models import Patient

ENCOUNTER_REQUIRED = "encounter_required"
OTHER_PATIENT = "other_patient"
NOT_PARTICIPANT = "not_participant"
CLOSED = "closed"
NOT_SHOWN = "not_shown"
NOT_PERFORMER = "not_performer"
NOT_DOCTOR = "not_doctor"
NOT_IN_ROOM = "not_in_room"
NOT_LIVE = "not_live"
# The participants shown the act's readings live in the room.
LIVE_ROLES = frozenset({ParticipantRole.DOCTOR, ParticipantRole.ASSISTANT})

# Who registers a device (equipment, no patient data): the professions that measure.
DEVICE_ROLES = frozenset(
    {
        Role.DOCTOR,
        Role.NURSE,
        Role.PHARMACIST,
        Role.MIDWIFE,
        Role.REHABILITATION,
        Role.TELEMONITORING,
    }
)


class ReadingNotFound(Http404):
    """A missing reading (or medium) and a refused one look the same."""


class DeviceNotAllowed(Exception):
    """The user's role does not register devices (audited)."""


@dataclass(frozen=True)
class ReadingsAccess:
    """A patient's readings opened for one user, on one relation."""

    subject: Subject
    relation: Relation

    @property
    def user(self) -> User:
        return self.subject.user

    @property
    def patient(self) -> Patient:
        return self.subject.patient

    def visible_q(self) -> Q:
        """Which of the patient's readings (or media) this user sees."""
        if self.relation in (Relation.SELF, Relation.BREAK_GLASS):
            return Q()
        own_acts = Q(encounter__in=participating(self.user).values("pk"))
        if self.relation == Relation.TELECONSULTATION:
            return own_acts
        if self.subject.state.sharing_refused:
            return Q(performer_id=self.user.pk) | own_acts
        return Q()

    def observations(self) -> QuerySet[Observation]:
        return (
            Observation.objects.filter(patient_id=self.patient.pk)
            .filter(self.visible_q())
            .select_related("device", "encounter", "performer")
        )

    def media(self) -> QuerySet[Media]:
        return (
            Media.objects.filter(patient_id=self.patient.pk)
            .filter(self.visible_q())
            .select_related("file", "device", "encounter", "performer")
        )

    def shows(self, item: Observation | Media) -> bool:
        if item.patient_id != self.patient.pk:
            return False
        return type(item).objects.filter(pk=item.pk).filter(self.visible_q()).exists()


def readings_in_record(opened: RecordAccess) -> ReadingsAccess:
    """The readings of a record its page opened (the opening is audited there, once)."""
    return ReadingsAccess(opened.subject, opened.relation)


def recent_readings(opened: RecordAccess, limit: int = 20) -> list[Observation]:
    """The latest readings of a record opened for its page, wrong ones left out."""
    rows = readings_in_record(opened).observations().exclude(status="entered-in-error")
    return list(rows[:limit])


def recent_media(opened: RecordAccess, limit: int = 20) -> list[Media]:
    """The latest photos, sounds and tracings of a record opened for its page, wrong ones out."""
    rows = readings_in_record(opened).media().exclude(status="entered-in-error")
    return list(rows[:limit])


# --- reading -----------------------------------------------------------------


def open_readings(
    user: User, patient: Patient, *, detail: Mapping[str, Any] | None = None
) -> ReadingsAccess:
    """A patient's readings through the policy (one audited read); PatientNotFound if refused."""
    subject = Subject.of(user, patient)
    decision = decide(subject, Action.OBSERVATION_READ)
    audit_decision(user, patient, decision, detail=detail)
    if not decision.granted or decision.relation is None:
        raise PatientNotFound
    return ReadingsAccess(subject, decision.relation)


def readings_decided(user: User, patient: Patient) -> ReadingsAccess | None:
    """The user's view of a patient's readings, decided and not audited: for an action
    checking what a page offered (the page audited its own opening); None if refused."""
    subject = Subject.of(user, patient)
    decision = decide(subject, Action.OBSERVATION_READ)
    if not decision.granted or decision.relation is None:
        return None
    return ReadingsAccess(subject, decision.relation)


def shared_readings(
    subject: Subject, relation: Relation, chosen: QuerySet[Observation]
) -> QuerySet[Observation]:
    """Which of the readings someone chose to share (an act's context) this reader sees.

    The measurements' rule on the reader's own relation to the patient
    (``visible_q``): shared, a reading still goes only where the patient lets
    her readings go, is never another patient's, and never one entered in error.
    """
    return (
        chosen.filter(patient_id=subject.patient.pk)
        .filter(ReadingsAccess(subject, relation).visible_q())
        .exclude(status=ReadingStatus.ENTERED_IN_ERROR)
    )


def open_readings_by_id(
    user: User, patient_uuid: object, *, detail: Mapping[str, Any] | None = None
) -> ReadingsAccess:
    """The same, by the patient's public id (an unknown one refused and audited alike)."""
    patient = load_patient(patient_uuid)
    if patient is None:
        _refuse_unknown(user, Action.OBSERVATION_READ, patient_uuid)
        raise PatientNotFound
    return open_readings(user, patient, detail=detail)


def patient_for_recording(user: User, patient_uuid: object) -> Patient:
    """The patient a reading is sent for, by public id; an unknown one refused and audited."""
    patient = load_patient(patient_uuid)
    if patient is None:
        _refuse_unknown(user, Action.OBSERVATION_WRITE, patient_uuid)
        raise PatientNotFound
    return patient


def patient_of_act(act_uuid: object) -> uuid.UUID | None:
    """The public id of an act's patient, unchecked: to hand to ``open_readings_by_id``."""
    act = load_act(act_uuid)
    return act.patient.uuid if act is not None else None


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _refuse_unknown(user: User, purpose: str, value: object) -> None:
    record(
        user, Event(action=purpose, outcome=Outcome.DENIED, detail={"unknown_id": str(value)[:64]})
    )


def _load_observation(reading_uuid: object) -> Observation | None:
    if not _is_uuid(reading_uuid):
        return None
    return (
        Observation.objects.select_related("patient", "device", "encounter", "performer")
        .filter(uuid=uuid.UUID(str(reading_uuid)))
        .first()
    )


def _load_media(media_uuid: object) -> Media | None:
    if not _is_uuid(media_uuid):
        return None
    return (
        Media.objects.select_related("patient", "file", "device", "encounter", "performer")
        .filter(uuid=uuid.UUID(str(media_uuid)))
        .first()
    )


def _opened_on(
    user: User, item: Observation | Media, purpose: str, detail: Mapping[str, Any]
) -> ReadingsAccess:
    """``purpose`` on the item's patient, then whether the user sees it; audited if refused."""
    subject = Subject.of(user, item.patient)
    decision = decide(subject, purpose)
    if not decision.granted or decision.relation is None:
        audit_decision(user, item.patient, decision, detail=detail)
        raise ReadingNotFound
    opened = ReadingsAccess(subject, decision.relation)
    if not opened.shows(item):
        audit_decision(
            user, item.patient, Decision(purpose, decision.relation, NOT_SHOWN), detail=detail
        )
        raise ReadingNotFound
    return opened


def _read_granted(user: User, item: Observation | Media, key: str) -> ReadingsAccess:
    """Reading one item: the decision and whether the user sees it, then one entry naming it."""
    detail = {key: str(item.uuid)}
    opened = _opened_on(user, item, Action.OBSERVATION_READ, detail)
    audit_decision(
        user,
        item.patient,
        Decision(Action.OBSERVATION_READ, opened.relation, "by_relation"),
        detail=detail,
    )
    return opened


def get_observation(user: User, reading_uuid: object) -> tuple[Observation, ReadingsAccess]:
    """One reading through the policy, for reading: one audit entry naming it."""
    reading = _load_observation(reading_uuid)
    if reading is None:
        _refuse_unknown(user, Action.OBSERVATION_READ, reading_uuid)
        raise ReadingNotFound
    return reading, _read_granted(user, reading, "observation")


def get_media(user: User, media_uuid: object) -> tuple[Media, ReadingsAccess]:
    """One photo, sound or tracing through the policy, for reading: one audit entry."""
    medium = _load_media(media_uuid)
    if medium is None:
        _refuse_unknown(user, Action.OBSERVATION_READ, media_uuid)
        raise ReadingNotFound
    return medium, _read_granted(user, medium, "media")


def media_file(user: User, file_uuid: object) -> tuple[Media, StoredFile] | None:
    """The file of a medium the user may see (a Binary read); None when no medium holds it.

    A medium holding it but refused is audited as a refused read and raises
    ReadingNotFound.
    """
    if not _is_uuid(file_uuid):
        return None
    holder = Media.objects.filter(file__uuid=uuid.UUID(str(file_uuid))).values_list(
        "uuid", flat=True
    )
    found = holder.first()
    if found is None:
        return None
    medium, _opened = get_media(user, found)
    return medium, medium.file


# --- live pushes to the room ---------------------------------------------------


def _in_room(place: Participant, act: Consultation) -> bool:
    if place.left_at is not None or act.status != ActStatus.IN_PROGRESS:
        return False
    return place.role == ParticipantRole.DOCTOR or place.admitted_at is not None


def _live_rule(place: Participant, act: Consultation) -> str | None:
    if place.role not in LIVE_ROLES or place.user is None:
        return NOT_LIVE
    if not _in_room(place, act):
        return NOT_IN_ROOM
    return None


def _refuse_live(place: Participant, act: Consultation, rule: str, detail: dict[str, Any]) -> None:
    """A receiver refused: one entry (a guest's names her seat, with no actor)."""
    if place.user is not None:
        decision = Decision(Action.OBSERVATION_READ, None, rule)
        audit_decision(place.user, act.patient, decision, detail=detail)
        return
    record(
        None,
        Event(
            action=Action.OBSERVATION_READ,
            outcome=Outcome.DENIED,
            patient=act.patient,
            detail={**detail, "guest": str(place.uuid), "rule": rule},
        ),
    )


def live_receivers(
    consultation_uuid: object, items: list[Observation] | list[Media]
) -> list[tuple[Participant, list[Observation] | list[Media]]]:
    """The participants a live push of ``items`` (of one act) goes to, each decided now.

    For every participant of the act: the rules ``not_live`` and
    ``not_in_room``, then OBSERVATION_READ on the patient for her account and
    whether she sees each item (``not_shown``), as a read of the item would
    decide. A receiver granted leaves one read entry per item (``live``); a
    receiver refused, one entry with the rule, and gets nothing.
    """
    act = load_act(consultation_uuid)
    if act is None or not items:
        return []
    key = "observation" if isinstance(items[0], Observation) else "media"
    names = [str(item.uuid) for item in items]
    base = {"consultation": str(act.uuid), "live": True}
    out: list[tuple[Participant, list[Any]]] = []
    for place in Participant.objects.filter(consultation_id=act.pk).select_related("user"):
        rule = _live_rule(place, act)
        if rule is not None:
            _refuse_live(place, act, rule, {**base, key: names})
            continue
        assert place.user is not None
        subject = Subject.of(place.user, act.patient)
        decision = decide(subject, Action.OBSERVATION_READ)
        if not decision.granted or decision.relation is None:
            audit_decision(place.user, act.patient, decision, detail={**base, key: names})
            continue
        opened = ReadingsAccess(subject, decision.relation)
        shown = [item for item in items if item.patient_id == act.patient_id and opened.shows(item)]
        if len(shown) < len(items):
            refused = Decision(Action.OBSERVATION_READ, decision.relation, NOT_SHOWN)
            hidden = [str(i.uuid) for i in items if i not in shown]
            audit_decision(place.user, act.patient, refused, detail={**base, key: hidden})
        granted = Decision(Action.OBSERVATION_READ, decision.relation, "by_relation")
        record_many(
            place.user,
            [
                gate_event(
                    place.user, act.patient, granted, Outcome.GRANTED, {**base, key: str(i.uuid)}
                )
                for i in shown
            ],
        )
        if shown:
            out.append((place, shown))
    return out


# --- recording ---------------------------------------------------------------


def _act_rule(
    user: User, patient: Patient, act: Consultation | None, relation: Relation
) -> str | None:
    """The rules for the act a reading names."""
    if act is None or act.patient_id != patient.pk:
        return OTHER_PATIENT
    if not Participant.objects.filter(consultation_id=act.pk, user_id=user.pk).exists():
        return NOT_PARTICIPANT
    if relation == Relation.TELECONSULTATION:
        return None if act.is_open else CLOSED
    return None if participating(user).filter(pk=act.pk).exists() else CLOSED


def open_for_recording(
    user: User,
    patient: Patient,
    encounter: object | None,
    *,
    detail: Mapping[str, Any] | None = None,
) -> tuple[Consultation | None, Grant]:
    """A new reading (or medium) of ``patient`` for ``encounter`` (an act's id, or None).

    A refusal is audited now (PatientNotFound); the action closes the grant.
    """
    purpose = Action.OBSERVATION_WRITE
    full = dict(detail or {})
    subject = Subject.of(user, patient)
    decision = decide(subject, purpose)
    if not decision.granted or decision.relation is None:
        audit_decision(user, patient, decision, detail=full)
        raise PatientNotFound
    act = None
    rule = None
    if encounter is not None:
        act = load_act(encounter)
        full["encounter"] = str(encounter)[:64]
        rule = _act_rule(user, patient, act, decision.relation)
    elif decision.relation == Relation.TELECONSULTATION:
        rule = ENCOUNTER_REQUIRED
    if rule is not None:
        audit_decision(user, patient, Decision(purpose, decision.relation, rule), detail=full)
        raise PatientNotFound
    return act, Grant(user, patient, decision, full)


def observation_for_change(
    user: User, reading_uuid: object, *, doctor_only: bool = False, performer_only: bool = False
) -> tuple[Observation, Grant]:
    """A reading opened for a change (marking it, correcting it); ReadingNotFound if refused."""
    purpose = Action.OBSERVATION_WRITE
    reading = _load_observation(reading_uuid)
    if reading is None:
        _refuse_unknown(user, purpose, reading_uuid)
        raise ReadingNotFound
    detail = {"observation": str(reading.uuid)}
    opened = _opened_on(user, reading, purpose, detail)
    rule = None
    if doctor_only and user.role != Role.DOCTOR:
        rule = NOT_DOCTOR
    elif performer_only and reading.performer_id != user.pk:
        rule = NOT_PERFORMER
    if rule is not None:
        audit_decision(
            user, reading.patient, Decision(purpose, opened.relation, rule), detail=detail
        )
        raise ReadingNotFound
    decision = Decision(purpose, opened.relation, "by_relation")
    return reading, Grant(user, reading.patient, decision, detail)


def media_for_change(user: User, media_uuid: object) -> tuple[Media, Grant]:
    """A medium opened for the doctor to mark it; ReadingNotFound if refused."""
    purpose = Action.OBSERVATION_WRITE
    medium = _load_media(media_uuid)
    if medium is None:
        _refuse_unknown(user, purpose, media_uuid)
        raise ReadingNotFound
    detail = {"media": str(medium.uuid)}
    opened = _opened_on(user, medium, purpose, detail)
    if user.role != Role.DOCTOR:
        audit_decision(
            user, medium.patient, Decision(purpose, opened.relation, NOT_DOCTOR), detail=detail
        )
        raise ReadingNotFound
    return medium, Grant(
        user, medium.patient, Decision(purpose, opened.relation, "by_relation"), detail
    )


# --- devices -------------------------------------------------------------------


def require_device_writer(user: User) -> None:
    """Registering a device: the measuring professions only (audited when refused)."""
    if user.is_authenticated and user.is_active and user.role in DEVICE_ROLES:
        return
    record(
        user,
        Event(action=Action.DEVICE_CREATE, outcome=Outcome.DENIED, detail={"rule": "role"}),
    )
    raise DeviceNotAllowed
