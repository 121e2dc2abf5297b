from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from maillage.territory.models import Commune
from maillage.territory.queries import MAX_TYPED_CHARS, find_communes


class CommuneField(forms.CharField):
    """A commune typed by name ("Sancoins", "Sancoins (18)") or INSEE code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Set after __init__: as an argument it would become a validator run on
        # the Commune object; to_python checks the typed text against it instead.
        self.max_length = MAX_TYPED_CHARS
        self.widget.attrs.update(
            {
                "list": "communes-suggestions",
                "autocomplete": "off",
                "maxlength": str(MAX_TYPED_CHARS),
            }
        )

    def prepare_value(self, value: Any) -> Any:
        return str(value) if isinstance(value, Commune) else value

    def to_python(self, value: Any) -> Commune | None:  # type: ignore[override]
        if isinstance(value, Commune):
            return value
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        if len(text) > MAX_TYPED_CHARS:
            # Checked before any parsing, and the text is not echoed back.
            raise ValidationError(
                _("A commune name has at most %(limit)d characters."),
                code="max_length",
                params={"limit": MAX_TYPED_CHARS},
            )
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
