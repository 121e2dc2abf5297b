"""How a deciding rule reads on screen (the rule codes are data keys, in English)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from maillage.acts.eligibility import NOT_A_DOCTOR, OUTSIDE_PATHWAY, Assessment
from maillage.acts.models import RuleCode


def rule_label(code: str) -> str:
    if code == OUTSIDE_PATHWAY:
        return _("no rule of the coordinated pathway applies")
    if code == NOT_A_DOCTOR:
        return _("only a doctor bills a teleconsultation")
    try:
        return str(RuleCode(code).label)
    except ValueError:
        return code


def eligibility_context(assessment: Assessment) -> dict[str, Any]:
    """What ``acts/_eligibility.html`` needs, for a page including it with its own assessment."""
    return {"assessment": assessment, "rule_label": rule_label(assessment.rule)}
