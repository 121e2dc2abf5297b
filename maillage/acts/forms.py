"""The report form: it parses what was typed; the actions decide the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from maillage.acts.actions import MAX_CHARS, ClosingFacts, ReportContent
from maillage.acts.models import Orientation


def _text(label: StrOrPromise, rows: int, help_text: StrOrPromise = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_CHARS,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReportForm(forms.Form):
    """One form for the whole report; closing also says what the record cannot know."""

    reason = _text(_("Reason for the consultation"), 2)
    observations = _text(_("Observations"), 5)
    conclusion = _text(_("Conclusion"), 4)
    prescriptions = _text(
        _("Prescriptions"), 4, _("One line per medicine or exam; printed as a prescription.")
    )
    follow_up = _text(_("Follow-up"), 3)
    orientation = forms.ChoiceField(
        label=_("Orientation"),
        required=False,
        choices=[("", "—"), *Orientation.choices],
    )
    emergency = forms.BooleanField(label=_("Emergency"), required=False)
    sas_referral = forms.BooleanField(label=_("Referred by the SAS regulator"), required=False)
    treating_doctor_unavailable = forms.BooleanField(
        label=_("The médecin traitant could not see the patient in time"), required=False
    )

    def content(self) -> ReportContent:
        data = self.cleaned_data
        return ReportContent(
            reason=data["reason"],
            observations=data["observations"],
            conclusion=data["conclusion"],
            prescriptions=data["prescriptions"],
            follow_up=data["follow_up"],
            orientation=data["orientation"],
        )

    def facts(self) -> ClosingFacts:
        data = self.cleaned_data
        return ClosingFacts(
            emergency=data["emergency"],
            sas_referral=data["sas_referral"],
            treating_doctor_available=not data["treating_doctor_unavailable"],
        )
