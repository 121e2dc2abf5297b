"""The only writers of a teleconsultation's report and recorded act.

The doctor writes the report in one form, during or after the call
(``save_draft``), then closes it (``close``). Closing, in one transaction
like the tele-expertise conclusion: the report is closed once (a conditional
UPDATE), the call ended if it was still open (``teleconsult.actions.close``),
the act recorded with its billing (``facts.assess_for``) and its incidents,
then the report and the prescription rendered, filed in the record and sent
(``write_once``). A receiver refused by the policy is said on the report and
never undoes the closing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.acts.facts import assess_for
from maillage.acts.models import Orientation, RecordedAct, Report, ReportStatus
from maillage.files import storage
from maillage.policy.acts import report_for_change
from maillage.policy.teleconsult import access_days
from maillage.records.models import CareTeamMember, CareTeamReason
from maillage.teleconsult.models import Consultation, Status

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.policy.teleconsult import Change, Seat

MAX_CHARS = 20_000


class ReportRuleBroken(Exception):
    """A report refused by a rule; ``message`` is for the doctor, ``field`` says where."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ReportContent:
    """The one form: what the doctor writes."""

    reason: str = ""
    observations: str = ""
    conclusion: str = ""
    prescriptions: str = ""
    follow_up: str = ""
    orientation: str = ""


@dataclass(frozen=True)
class ClosingFacts:
    """What the record cannot know and the doctor says at closing (eligibility)."""

    emergency: bool = False
    sas_referral: bool = False
    treating_doctor_available: bool = True


REQUIRED_TO_CLOSE = ("reason", "conclusion")


def check_content(content: ReportContent, *, closing: bool) -> ReportContent:
    """Trimmed, bounded, with a known orientation; reason and conclusion to close."""
    cleaned: dict[str, str] = {}
    for item in fields(ReportContent):
        value = str(getattr(content, item.name) or "").strip()
        if len(value) > MAX_CHARS:
            raise ReportRuleBroken(
                _("At most %(count)d characters.") % {"count": MAX_CHARS}, item.name
            )
        if "\x00" in value:
            raise ReportRuleBroken(_("This text holds a character that is not allowed."), item.name)
        cleaned[item.name] = value
    if cleaned["orientation"] and cleaned["orientation"] not in Orientation.values:
        raise ReportRuleBroken(_("Choose an orientation from the list."), "orientation")
    if closing:
        for name in REQUIRED_TO_CLOSE:
            if not cleaned[name]:
                raise ReportRuleBroken(_("Write this before you close the report."), name)
        if not cleaned["orientation"]:
            raise ReportRuleBroken(_("Choose an orientation from the list."), "orientation")
    return ReportContent(**cleaned)


def _row(seat: Seat, user: User) -> Report:
    report, _created = Report.objects.get_or_create(
        consultation=seat.consultation, defaults={"author": user}
    )
    return report


def _fields(content: ReportContent) -> dict[str, Any]:
    return {item.name: getattr(content, item.name) for item in fields(ReportContent)}


def save_draft(user: User, consultation_uuid: object, content: ReportContent) -> Report:
    """The doctor writes or rewrites the report while it is not closed."""
    content = check_content(content, closing=False)
    seat, change = report_for_change(user, consultation_uuid, "report_draft")
    if seat.consultation.status == Status.CANCELLED:
        _refuse(change, "cancelled", _("This teleconsultation was cancelled."))
    with transaction.atomic():
        report = _row(seat, user)
        changed = Report.objects.filter(pk=report.pk, status=ReportStatus.DRAFT).update(
            **_fields(content), updated_at=timezone.now()
        )
        if changed:
            change.done(report=str(report.uuid))
    if not changed:
        _refuse(change, "closed", _("This report is closed: it can no longer be changed."))
    report.refresh_from_db()
    return report


def _refuse(change: Change, failure: str, message: str) -> None:
    change.failed(failure)
    raise ReportRuleBroken(message)


def close(
    user: User,
    consultation_uuid: object,
    content: ReportContent,
    facts: ClosingFacts = ClosingFacts(),
) -> Report:
    """Close the report: the act recorded, the PDFs filed and sent, in one transaction."""
    from maillage.acts import write_once
    from maillage.teleconsult import actions as room

    content = check_content(content, closing=True)
    seat, change = report_for_change(user, consultation_uuid, "report_close")
    consultation = seat.consultation
    if consultation.status == Status.CANCELLED or consultation.started_at is None:
        _refuse(change, "not_held", _("This teleconsultation did not take place."))
    with transaction.atomic():
        report = _row(seat, user)
        now = timezone.now()
        changed = Report.objects.filter(pk=report.pk, status=ReportStatus.DRAFT).update(
            **_fields(content),
            status=ReportStatus.CLOSED,
            closed_at=now,
            updated_at=now,
            author=user,
        )
        if changed:
            if consultation.is_open:
                consultation = room.close(consultation, user)
            report.refresh_from_db()
            act = record_act(consultation, report, facts, now)
            _care_team_place(consultation, user, now)
            change.done(report=str(report.uuid), billing=act.billing_code, billable=act.billable)
            # In the same transaction: a report is never closed without its
            # PDFs filed (a refused receiver is said on the report instead).
            with storage.removed_if_undone():
                write_once.file_and_send(user, report, act)
    if not changed:
        _refuse(change, "closed", _("This report is closed already."))
    report.refresh_from_db()
    return report


def _care_team_place(consultation: Consultation, by: User, now: dt.datetime) -> None:
    """The act puts its doctor in the patient's care team for a while (she sees it and may end it).

    As a tele-expertise does for its specialist: the doctor files the report
    and sends it from the record, so she must read the record, and the
    médecin traitant or a doctor already in the care team needs no new place.
    """
    patient, doctor = consultation.patient, consultation.doctor
    if patient.treating_doctor_id == doctor.pk:
        return
    current = CareTeamMember.objects.filter(
        patient=patient, professional=doctor, ended_at__isnull=True
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if current.exists():
        return
    CareTeamMember.objects.create(
        patient=patient,
        professional=doctor,
        reason=CareTeamReason.ACT,
        valid_until=now + access_days(),
        added_by=by,
    )


def record_act(
    consultation: Consultation, report: Report, facts: ClosingFacts, now: dt.datetime
) -> RecordedAct:
    """The act as it was: times, participants, modality, billing and incidents, copied once."""
    moment = consultation.started_at or now
    assessment = assess_for(
        consultation.patient,
        consultation.doctor,
        moment,
        emergency=facts.emergency,
        sas_referral=facts.sas_referral,
        treating_doctor_available=facts.treating_doctor_available,
    )
    return RecordedAct.objects.create(
        consultation=consultation,
        report=report,
        patient=consultation.patient,
        doctor=consultation.doctor,
        day=timezone.localdate(moment),
        started_at=consultation.started_at,
        ended_at=consultation.ended_at or now,
        modality=consultation.modality,
        participants=participants_of(consultation),
        billable=assessment.billable,
        billing_code=assessment.code,
        tariff=assessment.tariff,
        rule=assessment.rule,
        cap_share=assessment.cap_share,
        over_cap=assessment.over_cap,
        incidents=incidents_of(consultation),
        recorded_at=now,
    )


def participants_of(consultation: Consultation) -> list[dict[str, str]]:
    out = []
    for place in consultation.participants.select_related("user__professional"):
        professional = getattr(place.user, "professional", None) if place.user else None
        out.append(
            {
                "name": place.display_name,
                "role": place.role,
                "rpps": professional.rpps if professional is not None else "",
                "admitted_at": _local(place.admitted_at),
            }
        )
    return out


def incidents_of(consultation: Consultation) -> list[dict[str, str]]:
    return [
        {
            "kind": incident.kind,
            "at": _local(incident.at),
            "ended_at": _local(incident.ended_at),
        }
        for incident in consultation.incidents.all()
    ]


def _local(moment: dt.datetime | None) -> str:
    """An ISO time in the platform's zone (Europe/Paris), as the report prints it."""
    return timezone.localtime(moment).isoformat() if moment is not None else ""
