from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """What an audit entry records. Patient purposes are what the gate decides on."""

    PATIENT_READ = "patient.read", _("opened the identity record")
    PATIENT_SEARCH = "patient.search", _("saw the patient in search results")
    PATIENT_CREATE = "patient.create", _("created the identity record")
    PATIENT_UPDATE = "patient.update", _("changed the identity record")
    PATIENT_LINK = "patient.link", _("attached the patient to a structure")
    DUPLICATE_REVIEW = (
        "patient.duplicate_review",
        _("was shown the identity as a possible duplicate"),
    )
    ACCESS_LOG_READ = "patient.access_log", _("read the access log")
    RECORD_READ = "record.read", _("opened the shared record")
    DOCUMENT_READ = "document.read", _("read a document")
    DOCUMENT_CREATE = "document.create", _("added a document")
    DOCUMENT_REPLACE = "document.replace", _("replaced a document with a new version")
    DOCUMENT_WITHDRAW = "document.withdraw", _("withdrew a document")
    BREAK_GLASS = "record.break_glass", _("opened the record in an emergency")
    BREAK_GLASS_REVIEW = "record.break_glass_review", _("reviewed an emergency access")
    CONSENT_CHANGE = "record.consent", _("changed a consent")
    CONSENT_READ = "record.consent_read", _("read the consents")
    CARE_TEAM_CHANGE = "record.care_team", _("changed the care team")
    MESSAGE_READ = "message.read", _("read a message about the patient")
    MESSAGE_SEND = "message.send", _("sent a message about the patient")
    SEARCH = "search", _("searched patients")
    LOGIN = "auth.login", _("signed in")
    LOGIN_FAILED = "auth.login_failed", _("failed to sign in")
    LOGOUT = "auth.logout", _("signed out")
    OTP_ENROLLED = "auth.otp_enrolled", _("enrolled a second factor")
    OTP_FAILED = "auth.otp_failed", _("entered a wrong one-time code")
    TOKEN_CREATED = "auth.token_created", _("was given an API token")
    TOKEN_REJECTED = "auth.token_rejected", _("presented an unknown API token")
    FILE_INTEGRITY_FAILED = "file.integrity_failed", _("a stored file failed its integrity check")
    MESSAGE_RECEIVE = "message.receive", _("was sent a message about the patient")
    DOCUMENT_RECEIVE = "document.receive", _("was sent a document of the record")
    REGULATION_OPEN = "regulation.open", _("opened a regulation case")
    REGULATION_CLOSE = "regulation.close", _("closed a regulation case")
    REGULATION_REVIEW = "regulation.review", _("reviewed a regulation case")

    # Administration of accounts (listed in the admin's "administration journal").
    ROLE_CHANGED = "admin.role_changed", _("changed the role of an account")
    ROLE_GRANT_REQUESTED = "admin.role_grant_requested", _("asked for a clinical role")
    ROLE_GRANT_DECIDED = "admin.role_grant_decided", _("decided on a clinical role grant")
    STRUCTURES_CHANGED = "admin.structures_changed", _("changed the structures of an account")
    HABILITATION_CHANGED = "admin.habilitation_changed", _("changed the habilitation matrix")
    ACCOUNT_CHANGED = "admin.account_changed", _("changed an account")
    ACCOUNT_CREATED = "admin.account_created", _("created an account")
    ACCOUNT_ACTIVATED = "admin.account_activated", _("activated an account")
    ACCOUNT_DEACTIVATED = "admin.account_deactivated", _("deactivated an account")
    ACCOUNT_LOCKED = "auth.account_locked", _("was locked out after failed sign-ins")
    ACCOUNT_UNLOCKED = "admin.account_unlocked", _("unlocked an account")
    PASSWORD_RESET_SENT = "admin.password_reset_sent", _("sent a password reset link")
    OTP_REMOVED = "admin.otp_removed", _("removed a second factor")
    TOKEN_REVOKED = "auth.token_revoked", _("revoked an API token")
    TOKEN_EXPIRED = "auth.token_expired", _("presented an expired API token")
    NOISE_SUMMARY = "auth.noise_summary", _("anonymous failures counted without an entry each")
    PATIENT_UNLINK = "patient.unlink", _("removed a structure following the patient")
    MESSAGE_LIVE = "message.live", _("was shown a conversation about the patient live")
    # SMART apps (maillage.smart).
    APP_AUTHORIZED = "auth.app_authorized", _("authorized an app to use the API")
    APP_REVOKED = "auth.app_revoked", _("revoked an app's access to the API")
    SCOPE_REFUSED = "auth.scope_refused", _("was refused an interaction outside an app's scopes")
    # FHIR Bulk Data $export: the request, then one entry per patient exported.
    BULK_EXPORT = "fhir.export", _("exported the data in a bulk export")
    BULK_EXPORT_FILE = "fhir.export_file", _("downloaded a file of a bulk export")
    # Tele-expertise (maillage.expertise): asking, reading, taking part, and a
    # record document shared with a request, decided for each of its readers.
    EXPERTISE_ASK = "expertise.ask", _("asked a tele-expertise about the patient")
    EXPERTISE_READ = "expertise.read", _("read a tele-expertise about the patient")
    EXPERTISE_WRITE = "expertise.write", _("took part in a tele-expertise about the patient")
    EXPERTISE_DOCUMENT = "expertise.document", _("read a document shared with a tele-expertise")
    # Teleconsultation (maillage.teleconsult): opening one, entering its
    # waiting room or room, taking part (admitting, inviting, chat, files,
    # ending), and a signalling relay refused between two of its participants.
    TELECONSULT_OPEN = "teleconsult.open", _("opened a teleconsultation with the patient")
    TELECONSULT_READ = "teleconsult.read", _("entered or viewed a teleconsultation of the patient")
    TELECONSULT_WRITE = "teleconsult.write", _("took part in a teleconsultation of the patient")
    TELECONSULT_SIGNAL = "teleconsult.signal", _("sent a call signal in a teleconsultation")
    # Agenda (maillage.agenda): booking, reading and changing an appointment, and
    # each notice of one (confirmation, move, cancellation, reminder) to each receiver.
    APPOINTMENT_BOOK = "appointment.book", _("booked an appointment for the patient")
    APPOINTMENT_READ = "appointment.read", _("read an appointment of the patient")
    APPOINTMENT_WRITE = "appointment.write", _("changed an appointment of the patient")
    APPOINTMENT_RECEIVE = "appointment.receive", _("was sent a notice of an appointment")
    # Measurements (maillage.measurements): readings, photos, sounds and ECG
    # tracings of the patient, read and written; a device registered.
    OBSERVATION_READ = "observation.read", _("read the measurements of the patient")
    OBSERVATION_WRITE = "observation.write", _("recorded or changed a measurement of the patient")
    DEVICE_CREATE = "device.create", _("registered a measuring device")


class Outcome(models.TextChoices):
    """What happened, written once the decision has been carried out.

    GRANTED means allowed *and done*; a step that was allowed but failed (or
    changed nothing) is FAILED, with the reason in ``detail["failure"]``; a
    refusal is DENIED, with the rule that refused in ``detail["rule"]``.
    """

    GRANTED = "granted", _("done")
    DENIED = "denied", _("refused")
    FAILED = "failed", _("failed")


class Channel(models.TextChoices):
    WEB = "web", _("web")
    FHIR = "fhir", _("FHIR API")
    CLI = "cli", _("command line")
    TASK = "task", _("background task")
    SMTP = "smtp", _("mail gateway")


class AuditEntry(models.Model):
    """One append-only, chained record of an access or a security event.

    ``hash`` is an HMAC under the audit key ``key_id`` (kept outside the
    database, see ``audit.keys``) over the payload and ``prev_hash``. Never
    deleted, and updated only once, to link a pending entry (``seq`` null,
    group commit) without changing its content: the database refuses anything
    else by trigger (migrations 0005 and 0006), and ``verify_audit`` finds any
    change.
    """

    # Null while the entry waits to be linked (group commit, see audit.actions).
    seq = models.PositiveBigIntegerField(unique=True, null=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Snapshots: the log must still read right after an account is renamed.
    actor_label = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    # No `choices`: new kinds of events come with each capability, and the
    # trail's schema should not change for them. Labels come from Action.
    action = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    basis = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    ip = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["patient", "-seq"], name="audit_patient_seq"),
            # The chainer's look-up: only pending entries, so it stays tiny.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_pending"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"

    def get_action_display(self) -> str:
        return str(Action(self.action).label) if self.action in Action.values else self.action

    def get_actor_role_display(self) -> str:
        from maillage.accounts.models import Role

        return str(Role(self.actor_role).label) if self.actor_role in Role.values else ""

    def payload(self) -> dict[str, object]:
        """The content the hash covers."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "actor_role": self.actor_role,
            "patient": self.patient_id,
            "action": self.action,
            "outcome": self.outcome,
            "basis": self.basis,
            "reason": self.reason,
            "channel": self.channel,
            "ip": self.ip,
            "detail": self.detail,
        }


class AuditChainHead(models.Model):
    """The last sequence number and hash; one row, locked to append.

    Signed (``mac`` under ``key_id``) so that moving it by hand shows; it is
    also checkpointed outside the database (``audit.checkpoints``), so that
    putting back an older signed head shows too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"head #{self.seq}"
