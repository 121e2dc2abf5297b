"""Who a token's user is, in FHIR terms: the fhirUser claim and the launch patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maillage.directory.models import Professional
from maillage.policy.gate import own_patient

if TYPE_CHECKING:
    from maillage.accounts.models import User


def launch_patient(user: User | None) -> str | None:
    """The patient a standalone launch opens: for a patient's own account, herself."""
    if user is None:
        return None
    own = own_patient(user)
    return str(own.uuid) if own is not None else None


def fhir_user(user: User | None) -> str:
    """``Patient/{id}`` or ``Practitioner/{id}``; empty for staff without a directory entry."""
    if user is None:
        return ""
    patient = launch_patient(user)
    if patient is not None:
        return f"Patient/{patient}"
    professional = Professional.objects.filter(user=user).only("uuid").first()
    return f"Practitioner/{professional.uuid}" if professional is not None else ""
