from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from maillage.directory.models import Professional
from maillage.directory.queries import structures_of
from maillage.directory.terminology import GENERAL_PRACTICE, Profession
from maillage.lib.identifiers import InvalidIdentifier, parse_rpps
from maillage.lib.ins import InvalidMatricule
from maillage.patients.identity import (
    IDENTITY_FIELDS,
    IdentityInput,
    clean_matricule,
    identity_problems,
    matricule_message,
)
from maillage.patients.models import IdentityDocument, InsKind, Patient, Sex
from maillage.territory.forms import CommuneField

if TYPE_CHECKING:
    from maillage.accounts.models import User


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _doctors_for(user: User, current: Professional | None) -> QuerySet[Professional]:
    """GPs of the user's structures, and the current médecin traitant."""
    gps = Professional.objects.filter(
        active=True,
        profession=Profession.DOCTOR,
        specialty__in=GENERAL_PRACTICE,
        practices__structure__in=structures_of(user),
    )
    if current is not None:
        gps = gps | Professional.objects.filter(pk=current.pk)
    return gps.distinct().order_by("last_name", "first_name")


class PatientIdentityForm(forms.Form):
    birth_name = forms.CharField(label=_("Birth name"), max_length=100)
    first_birth_given_name = forms.CharField(label=_("First birth given name"), max_length=100)
    birth_given_names = forms.CharField(
        label=_("All birth given names"),
        max_length=200,
        required=False,
        help_text=_("In order, separated by spaces, as on the identity document."),
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birthplace_code = forms.CharField(
        label=_("INSEE code of the place of birth"),
        max_length=5,
        required=False,
        help_text=_("5 characters; 99 and the country code if born abroad (99134: Spain)."),
    )
    used_name = forms.CharField(label=_("Used name"), max_length=100, required=False)
    used_given_name = forms.CharField(label=_("Used given name"), max_length=100, required=False)
    ins_matricule = forms.CharField(
        label=_("Matricule INS"),
        max_length=21,
        required=False,
        help_text=_("15 characters: the number and its 2-digit key."),
    )
    ins_kind = forms.ChoiceField(label=_("Kind of matricule"), choices=InsKind.choices)
    retrieved_from_insi = forms.BooleanField(
        label=_("Identity returned by the INSi teleservice"), required=False
    )
    identity_document = forms.ChoiceField(
        label=_("High-trust identity document checked"),
        choices=IdentityDocument.choices,
        required=False,
    )
    doubtful = forms.BooleanField(label=_("Doubtful identity"), required=False)
    fictitious = forms.BooleanField(label=_("Fictitious identity"), required=False)
    commune = CommuneField(label=_("Commune of residence"), required=False)
    address_line = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    treating_doctor = forms.ModelChoiceField(
        label=_("Médecin traitant"),
        queryset=Professional.objects.none(),
        required=False,
        empty_label=_("— none or another doctor —"),
    )
    treating_doctor_rpps = forms.CharField(
        label=_("…or the RPPS number of another médecin traitant"),
        max_length=11,
        required=False,
    )

    def __init__(self, *args: Any, user: User, patient: Patient | None = None, **kwargs: Any):
        if patient is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(patient)
        super().__init__(*args, **kwargs)
        self.fields["treating_doctor"].queryset = _doctors_for(  # type: ignore[attr-defined]
            user, patient.treating_doctor if patient else None
        )
        self.fields["ins_kind"].initial = InsKind.NIR

    @staticmethod
    def initial_from(patient: Patient) -> dict[str, object]:
        initial = {name: getattr(patient, name) for name in IDENTITY_FIELDS}
        initial["ins_matricule"] = patient.ins_matricule or ""
        return initial

    def clean_ins_matricule(self) -> str | None:
        try:
            return clean_matricule(self.cleaned_data["ins_matricule"])
        except InvalidMatricule as error:
            raise forms.ValidationError(matricule_message(error.problem)) from None

    def clean_birthplace_code(self) -> str:
        return str(self.cleaned_data["birthplace_code"]).strip().upper()

    def clean_treating_doctor_rpps(self) -> Professional | None:
        raw = self.cleaned_data["treating_doctor_rpps"].strip()
        if not raw:
            return None
        try:
            rpps = parse_rpps(raw)
        except InvalidIdentifier:
            raise forms.ValidationError(_("This RPPS number is not valid.")) from None
        doctor = Professional.objects.filter(
            rpps=rpps, active=True, profession=Profession.DOCTOR
        ).first()
        if doctor is None:
            raise forms.ValidationError(_("No doctor of the directory has this RPPS number."))
        return doctor

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        cleaned["birth_given_names"] = (
            cleaned["birth_given_names"].strip() or cleaned["first_birth_given_name"].strip()
        )
        for problem in identity_problems(self.identity_input(cleaned)):
            self.add_error(problem.field, problem.message)
        return cleaned

    def identity_input(self, cleaned: dict[str, Any] | None = None) -> IdentityInput:
        data = self.cleaned_data if cleaned is None else cleaned
        return IdentityInput(
            birth_name=data["birth_name"].strip(),
            first_birth_given_name=data["first_birth_given_name"].strip(),
            birth_given_names=data["birth_given_names"].strip(),
            birth_date=data["birth_date"],
            sex=data["sex"],
            birthplace_code=data["birthplace_code"],
            used_name=data["used_name"].strip(),
            used_given_name=data["used_given_name"].strip(),
            ins_matricule=data["ins_matricule"],
            ins_kind=data["ins_kind"],
            retrieved_from_insi=data["retrieved_from_insi"],
            identity_document=data["identity_document"],
            doubtful=data["doubtful"],
            fictitious=data["fictitious"],
            commune=data["commune"],
            address_line=data["address_line"].strip(),
            phone=data["phone"].strip(),
            email=data["email"],
            treating_doctor=data["treating_doctor_rpps"] or data["treating_doctor"],
        )


class PatientCreateForm(PatientIdentityForm):
    confirm_distinct = forms.BooleanField(
        label=_("I have checked: this is another person with the same traits."),
        required=False,
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Name"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
