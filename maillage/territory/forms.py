from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from maillage.territory.models import Commune
from maillage.territory.queries import find_communes


class CommuneField(forms.CharField):
    """A commune typed by name ("Sancoins", "Sancoins (18)") or INSEE code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # No max_length: it would become a validator run on the Commune object.
        self.widget.attrs.update(
            {"list": "communes-suggestions", "autocomplete": "off", "maxlength": "120"}
        )

    def prepare_value(self, value: Any) -> Any:
        return str(value) if isinstance(value, Commune) else value

    def to_python(self, value: Any) -> Commune | None:  # type: ignore[override]
        if isinstance(value, Commune):
            return value
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        matches = list(find_communes(text)[:5])
        if not matches:
            raise ValidationError(
                _("No commune of Centre-Val de Loire is called “%(name)s”."),
                code="unknown",
                params={"name": text},
            )
        if len(matches) > 1:
            raise ValidationError(
                _(
                    "Several communes are called “%(name)s”: add the département, "
                    "for example “%(example)s”."
                ),
                code="ambiguous",
                params={"name": text, "example": str(matches[0])},
            )
        return matches[0]
