"""The forms of tele-expertise: they parse what was typed; the actions decide the rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.directory.models import Professional
from maillage.expertise.actions import MAX_ATTACHMENTS, MAX_TEXT, Ask, Conclusion
from maillage.expertise.models import Pool, Priority, Recommendation
from maillage.files.storage import Upload
from maillage.files.uploads import refuse_streamed
from maillage.measurements.display import ReadingRow
from maillage.measurements.display import rows as reading_rows
from maillage.measurements.models import Observation
from maillage.records.forms import MultipleFileField, MultipleFileInput
from maillage.records.models import Document

# Files of any kind we keep (the storage sniffs and refuses the rest).
ACCEPTED = "image/*,application/pdf,application/dicom,.dcm,audio/*"


def _photos_field() -> MultipleFileField:
    """The phone's camera: ``capture`` opens it at once (a computer shows its file picker)."""
    return MultipleFileField(
        label=_("Take a photo"),
        required=False,
        help_text=_("On a phone, the camera opens."),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED, "capture": "environment"}),
    )


def _files_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Photos, PDF, DICOM or sound; several at once."),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED}),
    )


class _Files(forms.Form):
    """Two ways to add files (the camera, the file picker), counted and checked together."""

    def _files(self) -> list[UploadedFile]:
        return [*self.cleaned_data.get("photos", []), *self.cleaned_data.get("attachments", [])]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        files = self._files()
        if len(files) > MAX_ATTACHMENTS:
            self.add_error(
                "attachments", _("At most %(count)d attachments.") % {"count": MAX_ATTACHMENTS}
            )
        try:
            refuse_streamed(files)
        except forms.ValidationError as refused:
            self.add_error("attachments", refused)
        return cleaned

    def uploads(self) -> list[Upload]:
        return [Upload(f.name or "fichier", f.read()) for f in self._files()]


class UuidChoices(forms.MultipleChoiceField):
    """Record documents by public id: what is posted is decided by the action, not here."""

    def valid_value(self, value: Any) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


def hours_label(hours: int | None) -> str:
    if not hours:
        return str(_("no announced time"))
    if hours % 24 == 0 and hours >= 48:
        return str(_("answers within %(days)d days") % {"days": hours // 24})
    return str(_("answers within %(hours)d h") % {"hours": hours})


def priority_label(priority: Priority) -> str:
    due = _("answer within %(hours)s h") % {"hours": priority.hours}
    return f"{priority.get_code_display()} — {due}"


def specialist_label(entry: Professional) -> str:
    what = entry.get_specialty_display() if entry.specialty else entry.get_profession_display()
    return f"{entry.display_name} — {what} — {hours_label(entry.teleexpertise_response_hours)}"


def pool_label(pool: Pool) -> str:
    responders: Sequence[Professional] = getattr(pool, "responders", [])
    times = sorted(
        {p.teleexpertise_response_hours for p in responders if p.teleexpertise_response_hours}
    )
    if not responders:
        who = str(_("nobody available now"))
    elif times:
        who = str(
            _("%(count)d specialists, %(times)s")
            % {"count": len(responders), "times": ", ".join(hours_label(h) for h in times)}
        )
    else:
        who = str(_("%(count)d specialists") % {"count": len(responders)})
    return f"{pool.name} — {pool.get_specialty_display()} — {who}"


def document_label(document: Document) -> str:
    return f"{document.title} — {document.get_type_display()}, {document.date:%d/%m/%Y}"


def reading_label(row: ReadingRow) -> str:
    taken = timezone.localtime(row.reading.effective_at)
    return f"{row.label} : {row.value} — {taken:%d/%m/%Y %H:%M}"


class AskForm(_Files):
    question = forms.CharField(
        label=_("Your clinical question"),
        max_length=MAX_TEXT,
        required=False,
        help_text=_(
            "What you would ask a colleague on the phone: the situation, then the question."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    pool = forms.ChoiceField(
        label=_("A pool of specialists of the territory"),
        required=False,
        help_text=_("The first member available takes it."),
    )
    specialist = forms.ChoiceField(
        label=_("Or a named specialist"),
        required=False,
    )
    priority = forms.ChoiceField(label=_("Priority"), widget=forms.RadioSelect)
    documents = UuidChoices(
        label=_("Context from the record (shared with the specialist)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    readings = UuidChoices(
        label=_("Latest measurements (shared with the specialist)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    photos = _photos_field()
    attachments = _files_field()
    consent = forms.BooleanField(
        label=_("The patient consented orally to this tele-expertise"),
        required=False,
        help_text=_("Recorded in your name, with the date and time."),
    )

    def __init__(
        self,
        *args: Any,
        pools: Sequence[Pool],
        specialists: Sequence[Professional],
        priorities: Sequence[Priority],
        context: tuple[Sequence[Document], Sequence[Observation]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [  # type: ignore[attr-defined]
            ("", _("— no pool —")),
            *[(str(p.uuid), pool_label(p)) for p in pools],
        ]
        self.fields["specialist"].choices = [  # type: ignore[attr-defined]
            ("", _("— nobody by name —")),
            *[(str(s.uuid), specialist_label(s)) for s in specialists],
        ]
        self.fields["priority"].choices = [  # type: ignore[attr-defined]
            (p.code, priority_label(p)) for p in priorities
        ]
        documents, readings = context
        self.fields["documents"].choices = [  # type: ignore[attr-defined]
            (str(d.uuid), document_label(d)) for d in documents
        ]
        self.fields["readings"].choices = [  # type: ignore[attr-defined]
            (str(row.reading.uuid), reading_label(row)) for row in reading_rows(readings)
        ]
        if priorities and not self.is_bound and not self.initial.get("priority"):
            self.initial["priority"] = priorities[-1].code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("pool") and cleaned.get("specialist"):
            self.add_error("specialist", _("Choose a pool or a named specialist, not both."))
        return cleaned

    def ask(self) -> Ask:
        data = self.cleaned_data
        return Ask(
            question=data.get("question", ""),
            priority=data.get("priority", ""),
            pool_uuid=data.get("pool") or None,
            specialist_uuid=data.get("specialist") or None,
            document_uuids=list(data.get("documents", [])),
            reading_uuids=list(data.get("readings", [])),
            uploads=self.uploads(),
            consent=bool(data.get("consent")),
        )


class WriteForm(_Files):
    """A message in the conversation: the specialist's answer or question, the requester's reply."""

    body = forms.CharField(
        label=_("Your message"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    photos = _photos_field()
    attachments = _files_field()


class ConcludeForm(_Files):
    text = forms.CharField(
        label=_("Your opinion"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "It becomes the opinion filed in the patient's record and sent to the requester."
        ),
    )
    recommendation = forms.ChoiceField(
        label=_("You recommend"),
        choices=Recommendation.choices,
        initial=Recommendation.NONE,
        widget=forms.RadioSelect,
    )
    photos = _photos_field()
    attachments = _files_field()

    def conclusion(self) -> Conclusion:
        return Conclusion(
            self.cleaned_data["text"], self.cleaned_data["recommendation"], self.uploads()
        )


class HandOverForm(forms.Form):
    colleague = forms.ChoiceField(label=_("Hand over to"))

    def __init__(self, *args: Any, colleagues: Sequence[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colleague"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a colleague")),
            *[(str(c.uuid), specialist_label(c)) for c in colleagues],
        ]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why (optional)"), max_length=MAX_TEXT, required=False)
