"""``{% eligibility patient professional moment %}``: the eligibility fragment on any page.

The page has passed the policy for this patient already; the tag reads the
facts (``acts.facts.assess_for``) and renders ``acts/_eligibility.html``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from maillage.acts.facts import assess_for
from maillage.acts.labels import eligibility_context
from maillage.directory.models import Professional
from maillage.patients.models import Patient

register = template.Library()


@register.inclusion_tag("acts/_eligibility.html")
def eligibility(
    patient: Patient,
    professional: Professional,
    moment: dt.datetime | None = None,
    emergency: bool = False,
    sas_referral: bool = False,
) -> dict[str, Any]:
    assessment = assess_for(
        patient, professional, moment, emergency=emergency, sas_referral=sas_referral
    )
    return eligibility_context(assessment)
