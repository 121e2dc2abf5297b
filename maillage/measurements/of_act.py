"""An act's readings and media as its report shows them, gathered through the policy.

The report's author (the act's doctor) opens the patient's readings
(``policy.measurements.open_readings``: one audited read) and gets the act's
Observations as table rows and its Media, wrong ones left out. On a page a
medium's file is its audited URL; in the PDF a marked photo is embedded
(its bytes, as a ``data:`` URI: WeasyPrint fetches nothing) and a tracing or
a sound is listed by its title.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from maillage.files import storage
from maillage.measurements.display import ReadingRow, rows
from maillage.measurements.models import Media, MediaKind, Status
from maillage.policy import measurements as policy
from maillage.policy.gate import PatientNotFound

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.teleconsult.models import Consultation

# Only these are drawn in a PDF (WeasyPrint reads them; a photo's type was sniffed when stored).
EMBEDDED_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class MediaRow:
    medium: Media
    # Where the file is: its audited URL on a page, its bytes (a data: URI) in a PDF; "" none.
    src: str
    # Drawn as an image: a photo the doctor marked.
    image: bool


@dataclass(frozen=True)
class ActReadings:
    readings: list[ReadingRow]
    media: list[MediaRow]

    def as_context(self) -> dict[str, Any]:
        return {"act_reading_rows": self.readings, "act_media_rows": self.media}


def _embedded(medium: Media) -> str:
    if medium.file.mime not in EMBEDDED_TYPES:
        return ""
    try:
        data = storage.read(medium.file)
    except storage.CorruptedFile:
        return ""
    return f"data:{medium.file.mime};base64,{base64.b64encode(data).decode('ascii')}"


def of_act(user: User, consultation: Consultation, *, embed: bool = False) -> ActReadings:
    """The act's readings (oldest first) and media for ``user``; nothing when she may not read."""
    try:
        opened = policy.open_readings(
            user,
            consultation.patient,
            detail={"consultation": str(consultation.uuid), "report": True},
        )
    except PatientNotFound:
        return ActReadings([], [])
    readings = (
        opened.observations()
        .filter(encounter_id=consultation.pk)
        .exclude(status=Status.ENTERED_IN_ERROR)
        .order_by("effective_at", "pk")
    )
    media = (
        opened.media()
        .filter(encounter_id=consultation.pk)
        .exclude(status=Status.ENTERED_IN_ERROR)
        .order_by("taken_at", "pk")
    )
    shown: list[MediaRow] = []
    for medium in media:
        image = medium.significant and medium.kind == MediaKind.PHOTO
        if embed:
            src = _embedded(medium) if image else ""
        else:
            src = reverse("measurements:media_file", args=[medium.uuid])
        shown.append(MediaRow(medium, src, image and bool(src)))
    return ActReadings(rows(readings), shown)
