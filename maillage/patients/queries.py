"""Search criteria over patients (always applied behind the gate's search), and reads
of an identity the policy opened."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from maillage.lib.names import normalise_name
from maillage.patients.models import PatientVersion
from maillage.policy.gate import PatientAccess


def patients_matching(text: str = "", birth_date: dt.date | None = None) -> Q:
    """Each word of ``text`` in the birth name, first given name or used name."""
    q = Q()
    for word in normalise_name(text).split():
        q &= Q(match_key__contains=word) | Q(used_name__icontains=word)
    if birth_date:
        q &= Q(birth_date=birth_date)
    return q


def identity_versions(opened: PatientAccess) -> list[PatientVersion]:
    """The earlier versions of an identity the policy opened, newest first."""
    return list(PatientVersion.objects.filter(patient=opened.patient).order_by("-version"))


def identity_version(opened: PatientAccess, version: int) -> PatientVersion | None:
    """One earlier version of an identity the policy opened; None if it has no such version."""
    return PatientVersion.objects.filter(patient=opened.patient, version=version).first()
