"""Telling the patient a regulation case was opened about her (as for an emergency opening)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from maillage.accounts.notify import send_notice

if TYPE_CHECKING:
    from maillage.regulation.models import RegulationCase


def tell_patient_of_regulation(case: RegulationCase) -> bool:
    """An email with a link to the access log, and no health data (not even the reason)."""
    user = case.patient.user
    if user is None:
        return False
    return send_notice(
        user,
        _("Maillage: a regulator opened your data"),
        [
            _(
                "A regulator of unscheduled care opened your data for a limited time to handle "
                "a request about you. Who, when and why is in the list of accesses to your "
                "record."
            ),
        ],
        reverse("patients:my_access_log"),
    )
