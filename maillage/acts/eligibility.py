"""Is this teleconsultation billable, under which code and tariff, and by which rule?

A pure function from facts to an assessment: no database, no clock. The
facts come from ``facts.gather`` (the record and the agenda), the rules in
force on the day from ``facts.rules_on`` (rows of ``models``).

The order, each step a rule of STANDARDS.md ("Telemedicine acts"):

1. only a doctor bills a teleconsultation;
2. the coordinated pathway: the patient's médecin traitant, or a doctor who
   saw the patient in person within the months set (12);
3. otherwise one of the exceptions, in this order: emergency, under-16,
   direct-access specialty (psychiatry from 16 to 25 only), no available
   médecin traitant, EHPAD resident, under-served zone (ZIP), SAS referral;
4. otherwise it is outside the pathway: not billable.

The first rule that holds decides. A rule switched off in the data is
skipped. The code is TCG for a general practitioner in sector 1 or with
OPTAM, TC otherwise, at the tariff in force on the day.

The yearly cap (20 % of the doctor's acts, 40 % in psychiatry; the médecin
traitant's own patients outside it) is reported beside the decision and
never changes it: the cap is checked on the whole year, after the fact, and
the first act of January is 100 % of the year so far. ``over_cap`` says the
share with this act is above the cap, for the doctor to see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from maillage.acts.models import BillingCode, RuleCode
from maillage.directory.terminology import Specialty


@dataclass(frozen=True)
class Facts:
    """What is known of the patient, the doctor and the moment, gathered before deciding."""

    on: dt.date
    patient_age: int
    is_doctor: bool
    is_general_practitioner: bool
    specialty: str
    # Conventional sector (1, 2, 3), None when not recorded; OPTAM signed.
    sector: int | None
    optam: bool
    is_treating_doctor: bool
    has_treating_doctor: bool
    # The patient's médecin traitant cannot see her in time (said at booking).
    treating_doctor_available: bool
    # The last in-person visit of the patient with this doctor, before this act.
    last_in_person_visit: dt.date | None
    emergency: bool
    ehpad_resident: bool
    underserved_zone: bool
    sas_referral: bool
    # The doctor's acts of the calendar year before this one: all, and the remote
    # ones the cap counts (not those with their own patients as médecin traitant).
    year_acts: int
    year_remote_capped: int


@dataclass(frozen=True)
class Rules:
    """The rows in force on a day: tariffs, rules with their parameter, direct-access ages."""

    tariffs: Mapping[str, Decimal]
    # Rule code -> parameter (None for rules without one); a rule absent is not in force.
    active: Mapping[str, int | None]
    # Specialty -> (min age, max age), either bound None when open.
    direct_access: Mapping[str, tuple[int | None, int | None]]


@dataclass(frozen=True)
class Assessment:
    billable: bool
    # TCG or TC; empty when the professional cannot bill one (not a doctor).
    code: str
    tariff: Decimal | None
    # The rule that decided (a RuleCode), or OUTSIDE_PATHWAY / NOT_A_DOCTOR.
    rule: str
    counts_against_cap: bool
    # The doctor's share of remote acts in the year with this one, in percent.
    cap_share: Decimal
    cap_limit: int | None
    over_cap: bool


OUTSIDE_PATHWAY = "outside_pathway"
NOT_A_DOCTOR = "not_a_doctor"


def assess(facts: Facts, rules: Rules) -> Assessment:
    """Decide from the facts and the rules in force (see the module's order)."""
    code = billing_code(facts)
    counts = counts_against_cap(facts)
    share = cap_share(facts, counts)
    limit = cap_limit(facts, rules)
    over = counts and limit is not None and share > limit
    rule = deciding_rule(facts, rules)
    billable = rule not in (OUTSIDE_PATHWAY, NOT_A_DOCTOR)
    return Assessment(
        billable=billable,
        code=code,
        tariff=rules.tariffs.get(code) if billable and code else None,
        rule=rule,
        counts_against_cap=counts,
        cap_share=share,
        cap_limit=limit,
        over_cap=over,
    )


def deciding_rule(facts: Facts, rules: Rules) -> str:
    """The first rule in force that holds, else why none does."""
    if not facts.is_doctor:
        return NOT_A_DOCTOR
    for code, holds in _steps(facts, rules):
        if code in rules.active and holds:
            return code
    return OUTSIDE_PATHWAY


def _steps(facts: Facts, rules: Rules) -> tuple[tuple[str, bool], ...]:
    return (
        (RuleCode.TREATING_DOCTOR, facts.is_treating_doctor),
        (RuleCode.PRIOR_VISIT, _seen_within(facts, rules.active.get(RuleCode.PRIOR_VISIT))),
        (RuleCode.EMERGENCY, facts.emergency),
        (RuleCode.UNDER_AGE, _under(facts.patient_age, rules.active.get(RuleCode.UNDER_AGE))),
        (RuleCode.DIRECT_ACCESS, _direct_access(facts, rules)),
        (
            RuleCode.NO_TREATING_DOCTOR,
            not facts.has_treating_doctor or not facts.treating_doctor_available,
        ),
        (RuleCode.EHPAD, facts.ehpad_resident),
        (RuleCode.UNDERSERVED_ZONE, facts.underserved_zone),
        (RuleCode.SAS_REFERRAL, facts.sas_referral),
    )


def billing_code(facts: Facts) -> str:
    if not facts.is_doctor:
        return ""
    if facts.is_general_practitioner and (facts.sector == 1 or facts.optam):
        return BillingCode.TCG
    return BillingCode.TC


def counts_against_cap(facts: Facts) -> bool:
    """A remote act counts, except with the doctor's own patients as médecin traitant."""
    return facts.is_doctor and not facts.is_treating_doctor


def cap_limit(facts: Facts, rules: Rules) -> int | None:
    if facts.specialty == Specialty.PSYCHIATRY and RuleCode.CAP_PSYCHIATRY in rules.active:
        return rules.active[RuleCode.CAP_PSYCHIATRY]
    return rules.active.get(RuleCode.CAP)


def cap_share(facts: Facts, counts: bool) -> Decimal:
    """Percent of the year's acts that are capped remote acts, this one included."""
    capped = facts.year_remote_capped + (1 if counts else 0)
    total = facts.year_acts + 1
    return (Decimal(100 * capped) / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _seen_within(facts: Facts, months: int | None) -> bool:
    if facts.last_in_person_visit is None or months is None:
        return False
    return facts.last_in_person_visit >= months_before(facts.on, months)


def _under(age: int, limit: int | None) -> bool:
    return limit is not None and age < limit


def _direct_access(facts: Facts, rules: Rules) -> bool:
    bounds = rules.direct_access.get(facts.specialty)
    if bounds is None:
        return False
    low, high = bounds
    return (low is None or facts.patient_age >= low) and (high is None or facts.patient_age <= high)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def age_on(birth: dt.date, day: dt.date) -> int:
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - (1 if before_birthday else 0)
