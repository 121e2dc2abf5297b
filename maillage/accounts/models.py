from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of DESIGN.md; the screen name is the label."""

    PATIENT = "patient", _("Patient")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")
    COORDINATOR = "coordinator", _("Secretary or health-house coordinator")
    REGULATOR = "regulator", _("Regulator")
    TELEMONITORING = "telemonitoring", _("Telemonitoring team")
    ANALYST = "analyst", _("Territorial analyst")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    ADMIN = "admin", _("Administrator")


# Roles whose users hold a directory entry with an RPPS number.
HEALTH_PROFESSIONAL_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.PHARMACIST})


class MaillageUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        # `createsuperuser` makes the first administrator of an installation.
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    objects: ClassVar[MaillageUserManager] = MaillageUserManager()

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Structures of staff without an RPPS number (secretaries, regulators,
    # social workers...). Health professionals' structures are their
    # directory practices; see maillage.directory.queries.structures_of.
    structures = models.ManyToManyField(
        "directory.Structure", blank=True, related_name="staff", verbose_name=_("structures")
    )
    # Demo accounts may skip the second factor, only when DEMO_MODE is on.
    is_demo = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def needs_second_factor(self) -> bool:
        return self.role != Role.PATIENT

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the FHIR API; only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"
