"""``{% orientation_choices consultation %}``: the patient's orientation choices on the report page.

A read-only line for the act's doctor (``policy.orientation.choices_for_doctor``),
on the page whose opening of the act is already decided and audited.
"""

from __future__ import annotations

from typing import Any

from django import template

from maillage.accounts.models import User
from maillage.policy import orientation as policy
from maillage.teleconsult.models import Consultation

register = template.Library()


@register.inclusion_tag("assisted/debrief_choices.html", takes_context=True)
def orientation_choices(context: template.Context, consultation: Consultation) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"choices": []}
    return {"choices": policy.choices_for_doctor(user, consultation)}
