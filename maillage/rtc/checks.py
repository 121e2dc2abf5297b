"""A misconfigured relay is said at start-up (``manage.py check``), not in a patient's call."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from maillage.lib.ice import check
from maillage.rtc.config import ice_settings


@register()
def ice_configuration(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        config = ice_settings()
    except ValueError as error:
        return [Error(str(error), id="rtc.E001")]
    return [Error(problem, id="rtc.E002") for problem in check(config)]
