from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.audit.models import AuditEntry


class Role(models.TextChoices):
    """The roles of DESIGN.md; the screen name is the label."""

    PATIENT = "patient", _("Patient")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    MIDWIFE = "midwife", _("Midwife")
    # Physiotherapists, speech therapists and orthoptists: they ask tele-expertise
    # (STANDARDS.md) and take part in a care team; one role, one column of the matrix.
    REHABILITATION = "rehabilitation", _("Physiotherapist, speech therapist or orthoptist")
    PHARMACIST = "pharmacist", _("Pharmacist")
    COORDINATOR = "coordinator", _("Secretary or health-house coordinator")
    REGULATOR = "regulator", _("Regulator")
    TELEMONITORING = "telemonitoring", _("Telemonitoring team")
    ANALYST = "analyst", _("Territorial analyst")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    ADMIN = "admin", _("Administrator")


# Roles whose users hold a directory entry with an RPPS number.
HEALTH_PROFESSIONAL_ROLES = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.MIDWIFE, Role.REHABILITATION, Role.PHARMACIST}
)
# Roles that read patient data. An administrator never grants one alone: a
# second administrator approves (RoleGrant), and staff accounts never hold one.
CLINICAL_ROLES = frozenset(Role) - {Role.ADMIN, Role.ANALYST}


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
    """A bearer token for the FHIR API; only its SHA-256 is kept. It expires."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # Set once, when the owner has been told the token expired.
    expiry_noticed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"


class GrantState(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved and applied")
    REFUSED = "refused", _("refused")


class RoleGrant(models.Model):
    """A clinical role asked for by one administrator, applied once another approves it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_grants", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    state = models.CharField(
        _("state"), max_length=10, choices=GrantState.choices, default=GrantState.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("clinical role grant")
        verbose_name_plural = _("clinical role grants")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.user.username} → {self.role} ({self.state})"


class NoiseWindow(models.Model):
    """How many anonymous failures of one kind came from one address in one time window.

    Kept in the database, not in process memory, so that every worker of the
    server counts the same window. The first few failures of a window are
    audited one by one; the rest only counted, and one summary entry gives
    the count once the window has closed.
    """

    kind = models.CharField(max_length=40)
    source = models.CharField(max_length=45, blank=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    summarized = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source", "window_start"], name="noise_window_unique"
            )
        ]
        indexes = [models.Index(fields=["summarized", "window_start"], name="noise_open")]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.window_start:%Y-%m-%d %H:%M} x{self.count}"


class AdministrationEntry(AuditEntry):
    """The administration journal: audit entries about accounts, roles and the matrix.

    A read-only proxy over the chained trail, so the admin lists it without
    being able to browse the rest of the trail (which names patients).
    """

    class Meta:
        proxy = True
        verbose_name = _("administration journal entry")
        verbose_name_plural = _("administration journal")
