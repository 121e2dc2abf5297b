"""A system client (client credentials) and the account it acts as."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemClient(models.Model):
    """Binds a confidential application to the service account its tokens act as.

    A client-credentials token has no user of its own; the policy decides
    what this account may do, and the token's ``system/`` scopes narrow it.
    """

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="system_client",
        verbose_name=_("application"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="system_client",
        verbose_name=_("service account"),
    )

    class Meta:
        verbose_name = _("system client")
        verbose_name_plural = _("system clients")

    def __str__(self) -> str:
        return f"{self.application} → {self.user}"
