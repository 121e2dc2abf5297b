"""Gather the facts of eligibility for (patient, doctor, moment), and the rules in force.

The caller has already passed the policy for this patient (the booking or the
room page did): these functions read what the assessment needs and show
nothing by themselves. What the record cannot know (an emergency, a SAS
referral, a médecin traitant who cannot see her in time) is said by the caller.

The agenda's in-person visits are read by ``last_in_person_visit`` and
``year_activity`` alone: the two places to complete if the agenda's model
changes shape. The remote acts of the year are those recorded at closing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from maillage.acts.eligibility import Assessment, Facts, Rules, age_on, assess
from maillage.acts.models import (
    DirectAccessSpecialty,
    RecordedAct,
    Rule,
    RuleCode,
    Tariff,
    UnderservedCommune,
    valid_on,
)
from maillage.agenda.models import Appointment, AppointmentStatus, Modality
from maillage.directory.models import Professional, StructureKind
from maillage.directory.terminology import GENERAL_PRACTICE, Profession
from maillage.patients.models import Patient

# Appointments that are not a visit that took place.
NOT_HELD = (AppointmentStatus.CANCELLED, AppointmentStatus.NOSHOW)


def assess_for(
    patient: Patient,
    professional: Professional,
    moment: dt.datetime | None = None,
    *,
    emergency: bool = False,
    sas_referral: bool = False,
    treating_doctor_available: bool = True,
) -> Assessment:
    """The assessment of a teleconsultation of ``patient`` by ``professional`` at ``moment``."""
    moment = moment or timezone.now()
    facts = gather(
        patient,
        professional,
        moment,
        emergency=emergency,
        sas_referral=sas_referral,
        treating_doctor_available=treating_doctor_available,
    )
    return assess(facts, rules_on(facts.on))


def gather(
    patient: Patient,
    professional: Professional,
    moment: dt.datetime,
    *,
    emergency: bool = False,
    sas_referral: bool = False,
    treating_doctor_available: bool = True,
) -> Facts:
    day = timezone.localdate(moment)
    convention = getattr(professional, "convention", None) if professional.pk else None
    year_acts, year_remote_capped = year_activity(professional, moment)
    return Facts(
        on=day,
        patient_age=age_on(patient.birth_date, day),
        is_doctor=professional.profession == Profession.DOCTOR,
        is_general_practitioner=professional.specialty in GENERAL_PRACTICE,
        specialty=professional.specialty,
        sector=convention.sector if convention else None,
        optam=bool(convention and convention.optam),
        is_treating_doctor=patient.treating_doctor_id == professional.pk,
        has_treating_doctor=patient.treating_doctor_id is not None,
        treating_doctor_available=treating_doctor_available,
        last_in_person_visit=last_in_person_visit(patient, professional, moment),
        emergency=emergency,
        ehpad_resident=patient.followed_by.filter(kind=StructureKind.EHPAD).exists(),
        underserved_zone=lives_in_underserved_zone(patient, day),
        sas_referral=sas_referral,
        year_acts=year_acts,
        year_remote_capped=year_remote_capped,
    )


# The rules, tariffs, direct-access specialties and under-served communes in
# force on a day, kept per process: rows an administrator edits a few times a
# year, read by every page that shows an eligibility (three to four queries
# each time otherwise). A save or delete of one of them in this process
# forgets them at once and again at its commit (``apps.ready`` connects
# ``forget_rules``); a change made by another process is seen within
# RULES_TTL seconds. A QuerySet ``update()`` sends no signal: code that
# changes these rows that way calls ``forget_rules`` itself.
RULES_TTL = 300.0


@dataclass(frozen=True)
class _DayRows:
    rules: Rules
    underserved: frozenset[str]
    read_at: float


_days: dict[dt.date, _DayRows] = {}
# Bumped by each forgetting: rows read before it are not kept after it.
_generation = 0


def forget_rules(**_signal: object) -> None:
    """Forget the cached rows (a row was saved or deleted); a signal receiver too."""
    global _generation
    _generation += 1
    _days.clear()
    if _signal.get("sender") is not None:
        transaction.on_commit(forget_rules)


def _rows_on(day: dt.date) -> _DayRows:
    cached = _days.get(day)
    now = time.monotonic()
    if cached is not None and now - cached.read_at < RULES_TTL:
        return cached
    generation = _generation
    fresh = _DayRows(_read_rules(day), _read_underserved(day), now)
    if generation == _generation:
        _days[day] = fresh
    return fresh


def rules_on(day: dt.date) -> Rules:
    """The rows in force on ``day`` (the latest row of each code wins), cached per process."""
    return _rows_on(day).rules


def _read_rules(day: dt.date) -> Rules:
    in_force = Tariff.objects.filter(valid_on(day)).order_by("valid_from")
    tariffs = {row.code: row.amount for row in in_force}
    active: dict[str, int | None] = {}
    for rule in Rule.objects.filter(valid_on(day)).order_by("valid_from"):
        if rule.active:
            active[rule.code] = rule.parameter
        else:
            active.pop(rule.code, None)
    direct = {
        row.specialty: (row.min_age, row.max_age)
        for row in DirectAccessSpecialty.objects.filter(valid_on(day)).order_by("valid_from")
    }
    return Rules(tariffs=tariffs, active=active, direct_access=direct)


def _read_underserved(day: dt.date) -> frozenset[str]:
    return frozenset(
        UnderservedCommune.objects.filter(valid_on(day)).values_list("insee_code", flat=True)
    )


def lives_in_underserved_zone(patient: Patient, day: dt.date) -> bool:
    commune = patient.commune
    if commune is None:
        return False
    return commune.insee_code in _rows_on(day).underserved


def _held_in_person() -> QuerySet[Appointment]:
    return Appointment.objects.filter(modality=Modality.IN_PERSON).exclude(status__in=NOT_HELD)


def last_in_person_visit(
    patient: Patient, professional: Professional, before: dt.datetime
) -> dt.date | None:
    """The day of the last in-person appointment of the patient with this doctor before ``before``.

    Read from the agenda (``agenda.Appointment``: in person, neither cancelled
    nor missed; a past one still "booked" counts, as secretaries seldom mark
    them done). The one place to complete when in-person visits are recorded
    elsewhere (an act recorded outside the agenda).
    """
    if professional.pk is None:
        return None
    start = (
        _held_in_person()
        .filter(patient=patient, professional=professional, start__lt=before)
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )
    return timezone.localdate(start) if start else None


def year_activity(professional: Professional, moment: dt.datetime) -> tuple[int, int]:
    """The doctor's acts of the calendar year before ``moment``: all, and the capped remote ones.

    Remote: the teleconsultations recorded at their report's closing
    (``RecordedAct``), those with the doctor's own patients as médecin
    traitant outside the cap. In person: the agenda's in-person appointments
    that took place. Counts only.
    """
    if professional.pk is None:
        return 0, 0
    day = timezone.localdate(moment)
    year_start = timezone.make_aware(dt.datetime(day.year, 1, 1))
    remote = RecordedAct.objects.filter(
        doctor=professional, day__gte=year_start.date(), day__lte=day
    )
    counts = remote.aggregate(
        all=Count("pk"), capped=Count("pk", filter=~Q(rule=RuleCode.TREATING_DOCTOR))
    )
    remote_count, capped = counts["all"], counts["capped"]
    in_person = (
        _held_in_person()
        .filter(professional=professional, start__gte=year_start, start__lt=moment)
        .count()
    )
    return in_person + remote_count, capped


__all__ = [
    "assess_for",
    "forget_rules",
    "gather",
    "last_in_person_visit",
    "rules_on",
    "year_activity",
]
