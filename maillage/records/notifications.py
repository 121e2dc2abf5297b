"""Telling the patient their record was opened in an emergency (STANDARDS: they are told)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from maillage.accounts.notify import send_notice

if TYPE_CHECKING:
    from maillage.records.models import BreakGlassAccess


def tell_patient_of_break_glass(access: BreakGlassAccess) -> bool:
    user = access.patient.user
    if user is None:
        return False
    return send_notice(
        user,
        _("Maillage: your record was opened in an emergency"),
        [
            _(
                "A professional opened your record in an emergency. Who, when and why is in the "
                "list of accesses to your record."
            ),
        ],
        reverse("patients:my_access_log"),
    )
