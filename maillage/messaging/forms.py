from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from maillage.files.uploads import refuse_streamed
from maillage.messaging.actions import MAX_BODY_CHARS, MAX_FILES, Upload
from maillage.messaging.queries import ParsedRecipients, parse_recipients, split_addresses
from maillage.records.forms import MultipleFileField, MultipleFileInput, chosen_types
from maillage.records.models import Document, DocumentType

ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,.webp,.wav,.mp3,.ogg,.flac,.mp4,.webm,.xml,.dcm,.txt"


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, image, sound or ECG; several files at once if needed."),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILES}),
    )


class DocumentChoiceField(forms.MultipleChoiceField):
    """Record documents by public id. The choices shown are the documents the user
    sees; what is posted is checked by the document gate in the action, not here."""

    def valid_value(self, value: Any) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


def _documents_field() -> DocumentChoiceField:
    return DocumentChoiceField(
        label=_("Documents from the patient's record"),
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )


def document_choices(documents: list[Document]) -> list[tuple[str, str]]:
    return [
        (
            str(d.uuid),
            f"{d.title} — {d.get_type_display()}, {d.date:%d/%m/%Y}",
        )
        for d in documents
    ]


class _WithFiles(forms.Form):
    def __init__(self, *args: Any, documents: list[Document] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].choices = document_choices(documents or [])  # type: ignore[attr-defined]

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["attachments"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("At most %(n)d files per message.") % {"n": MAX_FILES})
        refuse_streamed(files)
        return files

    def uploads(self) -> list[Upload]:
        return [Upload(f.name or "fichier", f.read()) for f in self.cleaned_data["attachments"]]


class ComposeForm(_WithFiles):
    recipients = forms.CharField(
        label=_("Recipients from the directory"),
        required=False,
        max_length=2000,
        help_text=_(
            "Type a name or an RPPS number and pick a suggestion; separate several "
            "recipients with a semicolon."
        ),
        widget=forms.TextInput(
            attrs={"list": "recipient-suggestions", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    outside = forms.CharField(
        label=_("Other addresses (MSSanté or email)"),
        required=False,
        max_length=2000,
        help_text=_("For correspondents outside Maillage; separate addresses with a comma."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 8})
    )
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    attachments = _attachments_field()
    documents = _documents_field()

    parsed: ParsedRecipients

    def clean_recipients(self) -> str:
        typed: str = self.cleaned_data["recipients"]
        self.parsed = parse_recipients(typed)
        if self.parsed.unknown:
            raise forms.ValidationError(
                _(
                    "Not found in the directory: %(entries)s. Pick a suggestion or type an "
                    "RPPS number."
                )
                % {"entries": ", ".join(f"“{e}”" for e in self.parsed.unknown)}
            )
        return typed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parsed = getattr(self, "parsed", None)
        if "recipients" in cleaned and not (
            (parsed and (parsed.professionals or parsed.addresses)) or cleaned.get("outside")
        ):
            self.add_error("recipients", _("Choose at least one recipient."))
        return cleaned

    def addresses(self) -> list[str]:
        return [*self.parsed.addresses, *split_addresses(self.cleaned_data.get("outside", ""))]


class ReplyForm(_WithFiles):
    body = forms.CharField(
        label=_("Your reply"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = _attachments_field()
    documents = _documents_field()


class FileIntoRecordForm(forms.Form):
    type = forms.ChoiceField(label=_("Type of document"), choices=())
    title = forms.CharField(label=_("Title in the record"), max_length=200)

    def __init__(self, *args: Any, types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            ("", _("Choose a type")),
            *[(t, DocumentType(t).label) for t in chosen_types(types)],
        ]
        self.fields["type"].choices = choices  # type: ignore[attr-defined]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search my messages"), required=False, max_length=200)
