"""How a deciding rule reads on screen (the rule codes are data keys, in English)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from maillage.acts.eligibility import NOT_A_DOCTOR, OUTSIDE_PATHWAY, Assessment
from maillage.acts.models import RecordedAct, RuleCode
from maillage.teleconsult.models import IncidentKind, ParticipantRole


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


def _label(choices: Any, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _moment(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def act_shown(act: RecordedAct) -> dict[str, Any]:
    """The recorded act's participants and incidents, labelled in the language of the page."""
    return {
        "participants": [
            {**p, "label": _label(ParticipantRole, p.get("role", ""))} for p in act.participants
        ],
        "incidents": [
            {
                "label": _label(IncidentKind, i.get("kind", "")),
                "at": _moment(i.get("at", "")),
                "ended_at": _moment(i.get("ended_at", "")),
            }
            for i in act.incidents
        ],
        "rule_label": rule_label(act.rule),
    }
