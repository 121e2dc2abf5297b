"""The facts gathered from the record, the rules read from the rows, and the fragment shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone

from maillage.acts import defaults
from maillage.acts.eligibility import age_on
from maillage.acts.facts import assess_for, gather, rules_on
from maillage.acts.models import Convention, Rule, Tariff, UnderservedCommune
from maillage.acts.tests.test_eligibility_table import DAY, RULES
from maillage.directory.models import StructureKind
from maillage.testing import factories as f

MOMENT = timezone.make_aware(dt.datetime(2026, 12, 3, 10, 0))


@pytest.fixture(autouse=True)
def rows(db: None) -> None:
    defaults.ensure_now()


def test_the_migration_rows_are_the_rules_of_the_table() -> None:
    assert rules_on(DAY) == RULES


def test_the_tariff_in_force_is_the_one_of_the_day() -> None:
    assert rules_on(dt.date(2024, 6, 1)).tariffs["TCG"] == Decimal("25.00")
    assert rules_on(dt.date(2024, 12, 22)).tariffs["TCG"] == Decimal("30.00")
    assert rules_on(dt.date(2018, 1, 1)).tariffs == {}


def test_a_new_row_switches_a_rule_off_from_its_date() -> None:
    Rule.objects.create(code="ehpad", active=False, valid_from=dt.date(2027, 1, 1))
    assert "ehpad" in rules_on(DAY).active
    assert "ehpad" not in rules_on(dt.date(2027, 1, 1)).active


def test_it_gathers_the_patients_facts(personas: Any) -> None:
    facts = gather(personas.patient, personas.treating_doctor, MOMENT)
    assert facts.is_treating_doctor and facts.has_treating_doctor
    assert facts.underserved_zone  # Sancoins is in the starting ZIP list
    assert not facts.ehpad_resident
    assert facts.sector is None and facts.is_general_practitioner
    assert facts.patient_age == age_on(personas.patient.birth_date, DAY)
    other = gather(personas.patient, personas.cardiologist, MOMENT)
    assert not other.is_treating_doctor and not other.is_general_practitioner


def test_the_gp_in_sector_one_bills_tcg_at_todays_tariff(personas: Any) -> None:
    Convention.objects.create(professional=personas.treating_doctor, sector=1)
    assessment = assess_for(personas.patient, personas.treating_doctor, MOMENT)
    assert (assessment.billable, assessment.code, assessment.tariff) == (
        True,
        "TCG",
        Decimal("30.00"),
    )
    assert assessment.rule == "treating_doctor" and not assessment.counts_against_cap


def test_the_cardiologist_is_billable_by_the_zip_zone_then_not(personas: Any) -> None:
    assessment = assess_for(personas.patient, personas.cardiologist, MOMENT)
    assert (assessment.billable, assessment.rule, assessment.code) == (
        True,
        "underserved_zone",
        "TC",
    )
    # Saved as the admin saves it (an UPDATE of the rows would not forget the cached rules).
    zone = UnderservedCommune.objects.get(insee_code="18242")
    zone.valid_to = dt.date(2026, 6, 30)
    zone.save()
    assessment = assess_for(personas.patient, personas.cardiologist, MOMENT)
    assert (assessment.billable, assessment.rule) == (False, "outside_pathway")


def test_an_ehpad_resident_is_an_exception(personas: Any) -> None:
    UnderservedCommune.objects.all().delete()
    ehpad = f.structure("EHPAD Les Tilleuls", StructureKind.EHPAD, "18242")
    personas.patient.followed_by.add(ehpad)
    assessment = assess_for(personas.patient, personas.cardiologist, MOMENT)
    assert (assessment.billable, assessment.rule) == (True, "ehpad")


def test_what_the_caller_says_is_a_fact(personas: Any) -> None:
    UnderservedCommune.objects.all().delete()
    assert assess_for(personas.patient, personas.cardiologist, MOMENT, sas_referral=True).rule == (
        "sas_referral"
    )
    assert assess_for(personas.patient, personas.cardiologist, MOMENT, emergency=True).rule == (
        "emergency"
    )
    unavailable = assess_for(
        personas.patient, personas.cardiologist, MOMENT, treating_doctor_available=False
    )
    assert unavailable.rule == "no_treating_doctor"


def test_the_fragment_says_the_code_the_amount_and_the_rule(personas: Any) -> None:
    Tariff.objects.filter(code="TC").update(amount=Decimal("30.00"))
    html = Template("{% load acts_tags %}{% eligibility patient professional moment %}").render(
        Context(
            {"patient": personas.patient, "professional": personas.cardiologist, "moment": MOMENT}
        )
    )
    assert "TC" in html and "30,00" in html
    assert "zone sous-dotée" in html or "ZIP" in html


def _visit(personas: Any, start: dt.datetime, **kw: Any) -> Any:
    from maillage.agenda.models import Appointment

    fields = {"modality": "in_person", "status": "fulfilled", **kw}
    return Appointment.objects.create(
        patient=personas.patient,
        professional=personas.cardiologist,
        start=start,
        end=start + dt.timedelta(minutes=20),
        reason="Consultation",
        booked_by=personas.coordinator,
        **fields,
    )


def test_an_in_person_visit_of_the_agenda_within_12_months_is_the_pathway(
    personas: Any,
) -> None:
    UnderservedCommune.objects.all().delete()
    _visit(personas, MOMENT - dt.timedelta(days=90))
    _visit(personas, MOMENT - dt.timedelta(days=10), status="cancelled")
    _visit(personas, MOMENT - dt.timedelta(days=5), modality="remote")

    facts = gather(personas.patient, personas.cardiologist, MOMENT)
    assessment = assess_for(personas.patient, personas.cardiologist, MOMENT)

    assert facts.last_in_person_visit == (MOMENT - dt.timedelta(days=90)).date()
    assert (facts.year_acts, facts.year_remote_capped) == (1, 0)  # the held in-person visit
    assert (assessment.billable, assessment.rule) == (True, "prior_visit")


def test_a_visit_over_12_months_ago_or_missed_is_not(personas: Any) -> None:
    UnderservedCommune.objects.all().delete()
    _visit(personas, MOMENT - dt.timedelta(days=400))
    _visit(personas, MOMENT - dt.timedelta(days=30), status="noshow")

    assessment = assess_for(personas.patient, personas.cardiologist, MOMENT)

    assert (assessment.billable, assessment.rule) == (False, "outside_pathway")


# --- The rows of a day, cached per process ---------------------------------------


def test_the_rules_of_a_day_are_read_once_then_kept(django_assert_num_queries: Any) -> None:
    first = rules_on(DAY)
    with django_assert_num_queries(0):
        assert rules_on(DAY) == first
        assert rules_on(DAY) is first


def test_a_row_saved_or_deleted_is_seen_at_once(personas: Any) -> None:
    from maillage.acts.facts import lives_in_underserved_zone

    assert rules_on(DAY).tariffs["TCG"] == Decimal("30.00")  # cached now
    tariff = Tariff.objects.create(code="TCG", amount=Decimal("31.50"), valid_from=DAY)
    assert rules_on(DAY).tariffs["TCG"] == Decimal("31.50")
    tariff.amount = Decimal("32.00")
    tariff.save()
    assert rules_on(DAY).tariffs["TCG"] == Decimal("32.00")
    tariff.delete()
    assert rules_on(DAY).tariffs["TCG"] == Decimal("30.00")

    rule = Rule.objects.create(code="ehpad", active=False, valid_from=DAY)
    assert "ehpad" not in rules_on(DAY).active
    rule.delete()
    assert "ehpad" in rules_on(DAY).active

    bourges = f.commune("18033")
    personas.patient.commune = bourges
    assert not lives_in_underserved_zone(personas.patient, DAY)
    UnderservedCommune.objects.create(insee_code="18033", name="Bourges", valid_from=DAY)
    assert lives_in_underserved_zone(personas.patient, DAY)


def test_a_change_by_another_process_is_seen_after_the_ttl(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    from maillage.acts import facts

    rules_on(DAY)
    # Another process's write: no signal here (an UPDATE sends none).
    Tariff.objects.filter(code="TCG", valid_to__isnull=True).update(amount=Decimal("33.00"))
    assert rules_on(DAY).tariffs["TCG"] == Decimal("30.00")
    monkeypatch.setattr(facts, "RULES_TTL", 0.0)
    assert rules_on(DAY).tariffs["TCG"] == Decimal("33.00")
