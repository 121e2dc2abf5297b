from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maillage.files.uploads import refuse_streamed
from maillage.patients.forms import DateInput
from maillage.records.actions import MIN_REASON_LENGTH, NewDocument, Upload
from maillage.records.models import DocumentType, ReviewOutcome

MAX_FILES = 10
ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,.webp,.wav,.mp3,.ogg,.flac,.mp4,.webm,.xml,.dcm,.txt"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def chosen_types(types: list[str]) -> list[str]:
    """The types a person picks on a page: not UNCLASSIFIED, which only a received LOINC code makes.

    Whoever files from a page knows what the document is; a LOINC code that
    names none of our types reaches us through the FHIR API only.
    """
    return [t for t in types if t != DocumentType.UNCLASSIFIED]


class DocumentForm(forms.Form):
    type = forms.ChoiceField(label=_("Type of document"), choices=())
    title = forms.CharField(label=_("Title"), max_length=200)
    date = forms.DateField(label=_("Date of the document"), widget=DateInput())
    attachments = MultipleFileField(
        label=_("Files"),
        help_text=_("PDF, image, sound or ECG; several files at once if needed."),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILES}),
    )
    hidden_from_patient = forms.BooleanField(
        label=_("Not visible to the patient for now (news to announce in person)"), required=False
    )

    def __init__(self, *args: Any, types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(t, DocumentType(t).label) for t in chosen_types(types)]  # type: ignore[attr-defined]
        self.fields["date"].initial = timezone.localdate()

    def clean_date(self) -> Any:
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("The date of the document is in the future."))
        return date

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["attachments"]
        if not files:
            raise forms.ValidationError(_("Attach at least one file."))
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("At most %(n)d files per document.") % {"n": MAX_FILES})
        refuse_streamed(files)
        return files

    def new_document(self) -> NewDocument:
        data = self.cleaned_data
        return NewDocument(
            type=data["type"],
            title=data["title"],
            date=data["date"],
            hidden_from_patient=data["hidden_from_patient"],
        )

    def uploads(self) -> list[Upload]:
        return [Upload(f.name or "fichier", f.read()) for f in self.cleaned_data["attachments"]]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why withdraw it"), max_length=300)


class BreakGlassForm(forms.Form):
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    ins_matricule = forms.CharField(label=_("Matricule INS"), max_length=21, required=False)
    birth_name = forms.CharField(label=_("Birth name"), max_length=100, required=False)
    first_birth_given_name = forms.CharField(
        label=_("First birth given name"), max_length=100, required=False
    )
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the emergency access"),
        min_length=MIN_REASON_LENGTH,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Written in the record's access log, shown to the patient and reviewed."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        by_traits = all(
            cleaned.get(k) for k in ("birth_name", "first_birth_given_name", "birth_date")
        )
        if not (cleaned.get("patient") or cleaned.get("ins_matricule") or by_traits):
            raise forms.ValidationError(
                _(
                    "Identify the patient: the matricule INS, or birth name, first given name "
                    "and birth date."
                )
            )
        return cleaned


class CareTeamActForm(forms.Form):
    rpps = forms.CharField(label=_("RPPS number of the professional"), max_length=11)
    days = forms.IntegerField(label=_("For how many days"), min_value=1, max_value=365, initial=30)


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProfessionalChoiceForm(forms.Form):
    """The patient picks a professional by RPPS (shown in the directory)."""

    rpps = forms.CharField(label=_("RPPS number of the professional"), max_length=11)
