from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from maillage.lib.names import identity_match_key
from maillage.patients.forms import DateInput
from maillage.patients.identity import clean_matricule
from maillage.policy.relations import IdentityEvidence
from maillage.records.models import ReviewOutcome
from maillage.regulation.actions import MAX_REASON_LENGTH, MIN_HOURS, MIN_REASON_LENGTH, max_hours

DEFAULT_HOURS = 4


class OpenCaseForm(forms.Form):
    """Who the patient is (matricule or strict traits), why, and for how long."""

    ins_matricule = forms.CharField(label=_("Matricule INS"), max_length=21, required=False)
    birth_name = forms.CharField(label=_("Birth name"), max_length=100, required=False)
    first_birth_given_name = forms.CharField(
        label=_("First birth given name"), max_length=100, required=False
    )
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the request"),
        min_length=MIN_REASON_LENGTH,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Written in the patient's access log, shown to her and reviewed."),
    )
    hours = forms.IntegerField(label=_("For how many hours"), min_value=MIN_HOURS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The ceiling is a setting: read when the form is made, not at import.
        hours = self.fields["hours"]
        assert isinstance(hours, forms.IntegerField)
        hours.max_value = max_hours()
        hours.validators.append(MaxValueValidator(max_hours()))
        hours.widget.attrs["max"] = str(max_hours())
        hours.initial = min(DEFAULT_HOURS, max_hours())

    def clean_ins_matricule(self) -> str | None:
        try:
            return clean_matricule(self.cleaned_data["ins_matricule"])
        except ValueError:
            raise forms.ValidationError(_("This matricule INS is not valid.")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        by_traits = all(
            cleaned.get(k) for k in ("birth_name", "first_birth_given_name", "birth_date")
        )
        if not (cleaned.get("ins_matricule") or by_traits) and not self.has_error("ins_matricule"):
            raise forms.ValidationError(
                _(
                    "Identify the patient: the matricule INS, or birth name, first given name "
                    "and birth date."
                )
            )
        return cleaned

    def evidence(self) -> IdentityEvidence:
        """What was typed, as the policy reads it (valid form only)."""
        data = self.cleaned_data
        key = ""
        if data.get("birth_name") and data.get("first_birth_given_name") and data.get("birth_date"):
            key = identity_match_key(
                data["birth_name"], data["first_birth_given_name"], data["birth_date"]
            )
        return IdentityEvidence(key, data.get("ins_matricule"))


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
