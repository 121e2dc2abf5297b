"""Each rule of teleconsultation billing, one line of a table (STANDARDS.md, "Telemedicine acts").

The base case is a 40-year-old patient with a médecin traitant who is not
the doctor, never seen by this doctor in person, in no exception: outside the
pathway. Each line changes what its rule needs and says what it decides.
The rules are the starting rows of ``acts.defaults`` (the migration writes
the same: ``test_facts``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from maillage.acts import defaults
from maillage.acts.eligibility import Facts, Rules, assess, months_before
from maillage.directory.terminology import Specialty

DAY = dt.date(2026, 12, 3)

RULES = Rules(
    tariffs={"TCG": Decimal("30.00"), "TC": Decimal("25.00")},
    active=dict(defaults.RULES),
    direct_access={code: (low, high) for code, low, high in defaults.DIRECT_ACCESS},
)

BASE = Facts(
    on=DAY,
    patient_age=40,
    is_doctor=True,
    is_general_practitioner=True,
    specialty=Specialty.GENERAL_PRACTICE,
    sector=1,
    optam=False,
    is_treating_doctor=False,
    has_treating_doctor=True,
    treating_doctor_available=True,
    last_in_person_visit=None,
    emergency=False,
    ehpad_resident=False,
    underserved_zone=False,
    sas_referral=False,
    year_acts=99,
    year_remote_capped=10,
)

PSY = {"is_general_practitioner": False, "specialty": Specialty.PSYCHIATRY}
GYN = {"is_general_practitioner": False, "specialty": Specialty.GYNAECOLOGY}

# (what changes from the base, billable, deciding rule, code)
TABLE = [
    pytest.param({}, False, "outside_pathway", "TCG", id="no rule applies: not reimbursed"),
    pytest.param({"is_treating_doctor": True}, True, "treating_doctor", "TCG", id="the MT"),
    pytest.param(
        {"last_in_person_visit": dt.date(2026, 1, 15)},
        True, "prior_visit", "TCG", id="seen in person 11 months ago",
    ),
    pytest.param(
        {"last_in_person_visit": dt.date(2025, 12, 3)},
        True, "prior_visit", "TCG", id="seen in person 12 months ago to the day",
    ),
    pytest.param(
        {"last_in_person_visit": dt.date(2025, 12, 2)},
        False, "outside_pathway", "TCG", id="seen in person 12 months and a day ago",
    ),
    pytest.param({"emergency": True}, True, "emergency", "TCG", id="emergency"),
    pytest.param({"patient_age": 15}, True, "under_age", "TCG", id="patient of 15"),
    pytest.param({"patient_age": 16}, False, "outside_pathway", "TCG", id="patient of 16"),
    pytest.param(GYN, True, "direct_access", "TC", id="gynaecology, direct access"),
    pytest.param(
        {**PSY, "patient_age": 20}, True, "direct_access", "TC", id="psychiatry at 20: direct"
    ),
    pytest.param(
        {**PSY, "patient_age": 30}, False, "outside_pathway", "TC", id="psychiatry at 30: not"
    ),
    pytest.param(
        {"has_treating_doctor": False}, True, "no_treating_doctor", "TCG", id="no médecin traitant"
    ),
    pytest.param(
        {"treating_doctor_available": False},
        True, "no_treating_doctor", "TCG", id="médecin traitant not available",
    ),
    pytest.param({"ehpad_resident": True}, True, "ehpad", "TCG", id="EHPAD resident"),
    pytest.param(
        {"underserved_zone": True}, True, "underserved_zone", "TCG", id="lives in a ZIP zone"
    ),
    pytest.param({"sas_referral": True}, True, "sas_referral", "TCG", id="referred by the SAS"),
    pytest.param(
        {"is_treating_doctor": True, "emergency": True},
        True, "treating_doctor", "TCG", id="the pathway decides before an exception",
    ),
    pytest.param(
        {"is_doctor": False, "is_general_practitioner": False, "specialty": "", "emergency": True},
        False, "not_a_doctor", "", id="a nurse does not bill a teleconsultation",
    ),
    pytest.param(
        {"is_treating_doctor": True, "sector": 2},
        True, "treating_doctor", "TC", id="GP in sector 2 without OPTAM: TC",
    ),
    pytest.param(
        {"is_treating_doctor": True, "sector": 2, "optam": True},
        True, "treating_doctor", "TCG", id="GP in sector 2 with OPTAM: TCG",
    ),
    pytest.param(
        {"is_treating_doctor": True, "sector": None},
        True, "treating_doctor", "TC", id="GP whose sector is not recorded: TC",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("change", "billable", "rule", "code"), TABLE)
def test_it_decides_by_the_rule(
    change: dict[str, Any], billable: bool, rule: str, code: str
) -> None:
    assessment = assess(dataclasses.replace(BASE, **change), RULES)
    assert (assessment.billable, assessment.rule, assessment.code) == (billable, rule, code)
    expected_tariff = RULES.tariffs[code] if billable else None
    assert assessment.tariff == expected_tariff


# (what changes, counts against the cap, share with this act, cap, over the cap)
CAP_TABLE = [
    pytest.param({}, True, Decimal("11.0"), 20, False, id="11 % of a GP's acts: under 20 %"),
    pytest.param(
        {"year_remote_capped": 20}, True, Decimal("21.0"), 20, True, id="21 %: over the GP's 20 %"
    ),
    pytest.param(
        {**PSY, "year_remote_capped": 38}, True, Decimal("39.0"), 40, False,
        id="psychiatry 39 %: under its 40 %",
    ),
    pytest.param(
        {**PSY, "year_remote_capped": 40}, True, Decimal("41.0"), 40, True,
        id="psychiatry 41 %: over its 40 %",
    ),
    pytest.param(
        {"is_treating_doctor": True, "year_remote_capped": 30}, False, Decimal("30.0"), 20, False,
        id="own patient as médecin traitant: outside the cap",
    ),
    pytest.param(
        {"year_acts": 0, "year_remote_capped": 0}, True, Decimal("100.0"), 20, True,
        id="first act of the year: 100 %, said, billing unchanged",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("change", "counts", "share", "limit", "over"), CAP_TABLE)
def test_it_reports_the_yearly_cap(
    change: dict[str, Any], counts: bool, share: Decimal, limit: int, over: bool
) -> None:
    assessment = assess(dataclasses.replace(BASE, **change), RULES)
    assert (
        assessment.counts_against_cap,
        assessment.cap_share,
        assessment.cap_limit,
        assessment.over_cap,
    ) == (counts, share, limit, over)


def test_it_never_lets_the_cap_change_the_decision() -> None:
    over = assess(dataclasses.replace(BASE, emergency=True, year_remote_capped=90), RULES)
    assert over.over_cap and over.billable and over.rule == "emergency"


def test_a_rule_switched_off_in_the_data_no_longer_decides() -> None:
    without_ehpad = dataclasses.replace(
        RULES, active={k: v for k, v in RULES.active.items() if k != "ehpad"}
    )
    assessment = assess(dataclasses.replace(BASE, ehpad_resident=True), without_ehpad)
    assert (assessment.billable, assessment.rule) == (False, "outside_pathway")


def test_the_prior_visit_months_are_the_rules_parameter() -> None:
    six = dataclasses.replace(RULES, active={**RULES.active, "prior_visit": 6})
    facts = dataclasses.replace(BASE, last_in_person_visit=dt.date(2026, 3, 1))
    assert assess(facts, RULES).rule == "prior_visit"
    assert assess(facts, six).rule == "outside_pathway"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 12, 3), 12, dt.date(2025, 12, 3)),
        (dt.date(2024, 2, 29), 12, dt.date(2023, 2, 28)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 15), 1, dt.date(2025, 12, 15)),
    ],
)
def test_months_before_keeps_the_day_or_the_months_last(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert months_before(day, months) == expected
