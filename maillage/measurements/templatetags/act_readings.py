"""``{% act_readings consultation %}``: the act's readings and media on a page (its report).

Read for the page's user through the policy (``of_act``: one audited read);
a user who may not read them gets nothing shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from maillage.accounts.models import User
from maillage.measurements.of_act import of_act

if TYPE_CHECKING:
    from maillage.teleconsult.models import Consultation

register = template.Library()


@register.inclusion_tag("measurements/_act_readings.html", takes_context=True)
def act_readings(context: template.Context, consultation: Consultation) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return of_act(user, consultation).as_context()
