from __future__ import annotations

from django import template
from django.http import HttpRequest

from maillage.realtime import events

register = template.Library()


@register.inclusion_tag("realtime/bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, object]:
    """The bell of the header, with the count and the seq the page's client resumes from.

    The base layout shows it once the menu is there (second factor checked).
    """
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, **events.bell(user.pk)}
