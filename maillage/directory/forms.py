from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from maillage.directory.models import EquipmentKind, StructureKind
from maillage.directory.terminology import Profession, Specialty
from maillage.territory.forms import CommuneField

RADIUS_CHOICES = [("", _("Anywhere"))] + [(str(km), f"{km} km") for km in (10, 20, 30, 50, 75, 100)]


class _NearCommuneForm(forms.Form):
    commune = CommuneField(label=_("Near the commune"), required=False)
    radius = forms.TypedChoiceField(
        label=_("Within"), choices=RADIUS_CHOICES, coerce=float, empty_value=None, required=False
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("radius") is not None
            and cleaned.get("commune") is None
            and not self.has_error("commune")
        ):
            self.add_error("commune", _("Give a commune to search around it."))
        return cleaned


class ProfessionalSearchForm(_NearCommuneForm):
    specialty = forms.ChoiceField(
        label=_("Specialty"),
        choices=[("", _("Any specialty")), *sorted(Specialty.choices, key=lambda c: str(c[1]))],
        required=False,
    )
    profession = forms.ChoiceField(
        label=_("Profession"),
        choices=[("", _("Any profession")), *Profession.choices],
        required=False,
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    teleexpertise = forms.BooleanField(label=_("Answers tele-expertise"), required=False)
    field_order = ["specialty", "profession", "commune", "radius", "name", "teleexpertise"]


class StructureSearchForm(_NearCommuneForm):
    kind = forms.ChoiceField(
        label=_("Kind of structure"),
        choices=[("", _("Any kind")), *StructureKind.choices],
        required=False,
    )
    equipment = forms.MultipleChoiceField(
        label=_("With the equipment"),
        choices=EquipmentKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    field_order = ["kind", "commune", "radius", "equipment", "name"]
