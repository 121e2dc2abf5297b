from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from maillage.agenda.models import Absence, FeedDetail, Modality, SlotModality, WeeklyRule
from maillage.directory.forms import RADIUS_CHOICES
from maillage.directory.terminology import Specialty
from maillage.territory.forms import CommuneField


class FreeSlotForm(forms.Form):
    modality = forms.ChoiceField(
        label=_("Consultation"),
        choices=Modality.choices,
        initial=Modality.REMOTE,
        widget=forms.RadioSelect,
    )
    specialty = forms.ChoiceField(
        label=_("Specialty"),
        choices=[("", _("Any specialty")), *sorted(Specialty.choices, key=lambda c: str(c[1]))],
        required=False,
    )
    commune = CommuneField(label=_("Near the commune"), required=False)
    radius = forms.TypedChoiceField(
        label=_("Within (in person)"),
        choices=RADIUS_CHOICES,
        coerce=float,
        empty_value=None,
        required=False,
    )
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("radius") is not None
            and cleaned.get("commune") is None
            and not self.has_error("commune")
        ):
            self.add_error("commune", _("Give a commune to search around it."))
        return cleaned


class BookForm(forms.Form):
    modality = forms.ChoiceField(
        label=_("Consultation"), choices=Modality.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason for the appointment"), max_length=300)
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, slot_modality: str = SlotModality.BOTH, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        if slot_modality != SlotModality.BOTH:
            field = self.fields["modality"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [c for c in Modality.choices if c[0] == slot_modality]
            field.initial = slot_modality


class PatientPickForm(forms.Form):
    q = forms.CharField(label=_("Patient's name"), max_length=100, required=False)


class RuleForm(forms.ModelForm):
    class Meta:
        model = WeeklyRule
        fields = ["weekday", "start_time", "end_time", "slot_minutes", "modality", "valid_until"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}),
            "end_time": forms.TimeInput(attrs={"type": "time"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if isinstance(start, dt.time) and isinstance(end, dt.time) and end <= start:
            self.add_error("end_time", _("The end must come after the start."))
        minutes = cleaned.get("slot_minutes")
        if isinstance(minutes, int) and not 5 <= minutes <= 240:
            self.add_error("slot_minutes", _("A slot lasts between 5 and 240 minutes."))
        return cleaned


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["start", "end", "label"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end <= start:
            self.add_error("end", _("The end must come after the start."))
        return cleaned


class FeedForm(forms.Form):
    detail = forms.ChoiceField(
        label=_("What your calendar app receives"),
        choices=FeedDetail.choices,
        widget=forms.RadioSelect,
    )
