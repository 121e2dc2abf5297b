"""Search criteria over patients (always applied behind the gate's search)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from maillage.lib.names import normalise_name


def patients_matching(text: str = "", birth_date: dt.date | None = None) -> Q:
    """Each word of ``text`` in the birth name, first given name or used name."""
    q = Q()
    for word in normalise_name(text).split():
        q &= Q(match_key__contains=word) | Q(used_name__icontains=word)
    if birth_date:
        q &= Q(birth_date=birth_date)
    return q
