"""The doctor's mark on a reading, from the record's page, and a medium's file (the policy
decides and audits)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from maillage.accounts.models import User
from maillage.files import storage
from maillage.files.responses import stored_file_response
from maillage.measurements import actions
from maillage.policy.measurements import ReadingNotFound, get_media


@login_required
@require_POST
def mark(request: HttpRequest, uuid: str) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        reading = actions.mark_significant(
            user, uuid, significant=request.POST.get("significant") != "0"
        )
    except ReadingNotFound:
        context = {"break_glass": False, "patient_uuid": None}
        return render(request, "records/not_found.html", context, status=404)
    return redirect(reverse("records:record", args=[reading.patient.uuid]) + "#mesures")


@login_required
@require_GET
def media_file(request: HttpRequest, uuid: str) -> HttpResponse:
    """A photo, sound or tracing's file: the medium read through the policy (one audit entry)."""
    user = request.user
    assert isinstance(user, User)
    try:
        medium, _opened = get_media(user, uuid)
        data = storage.read(medium.file)
    except (ReadingNotFound, storage.CorruptedFile):
        context = {"break_glass": False, "patient_uuid": None}
        return render(request, "records/not_found.html", context, status=404)
    return stored_file_response(medium.file, data)
