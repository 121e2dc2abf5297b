from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.lib.ins import IdentityStatus, identity_status, may_transmit_matricule
from maillage.lib.names import identity_match_key


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class InsKind(models.TextChoices):
    """Whether the matricule INS is the person's NIR or a NIA (said by INSi)."""

    NIR = "NIR", _("NIR (social security number)")
    NIA = "NIA", _("NIA (temporary number)")


class IdentityDocument(models.TextChoices):
    """High-trust documents of the RNIV on which an identity may be validated."""

    NONE = "", _("No document checked")
    IDENTITY_CARD = "identity_card", _("National identity card")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    FAMILY_BOOK = "family_book", _("Family record book (minor)")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate extract (minor)")


class IdentityStatusChoice(models.TextChoices):
    PROVISIONAL = IdentityStatus.PROVISIONAL.value, _("Provisional identity")
    RETRIEVED = IdentityStatus.RETRIEVED.value, _("Retrieved identity")
    VALIDATED = IdentityStatus.VALIDATED.value, _("Validated identity")
    QUALIFIED = IdentityStatus.QUALIFIED.value, _("Qualified identity")


class Patient(models.Model):
    """A patient's identity: the strict traits of the RNIV and what we know of them."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Strict traits.
    birth_name = models.CharField(_("birth name"), max_length=100)
    first_birth_given_name = models.CharField(_("first birth given name"), max_length=100)
    birth_given_names = models.CharField(_("birth given names"), max_length=200)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birthplace_code = models.CharField(
        _("INSEE code of the place of birth"),
        max_length=5,
        blank=True,
        help_text=_("Code of the commune of birth, or 99 and the country code if born abroad."),
    )
    # Used traits.
    used_name = models.CharField(_("used name"), max_length=100, blank=True)
    used_given_name = models.CharField(_("used given name"), max_length=100, blank=True)
    # The matricule INS and the facts that make the identity status.
    ins_matricule = models.CharField(
        _("matricule INS"), max_length=15, null=True, blank=True, unique=True
    )
    ins_kind = models.CharField(
        _("kind of matricule"), max_length=3, choices=InsKind.choices, default=InsKind.NIR
    )
    retrieved_from_insi = models.BooleanField(_("returned by the INSi teleservice"), default=False)
    identity_document = models.CharField(
        _("identity document checked"),
        max_length=20,
        choices=IdentityDocument.choices,
        blank=True,
        default=IdentityDocument.NONE,
    )
    doubtful = models.BooleanField(_("doubtful identity"), default=False)
    fictitious = models.BooleanField(_("fictitious identity"), default=False)
    # Duplicate detection looks up this key (see maillage.lib.names).
    match_key = models.CharField(max_length=260, db_index=True, editable=False)
    # Contact and care.
    commune = models.ForeignKey(
        "territory.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients",
        verbose_name=_("commune of residence"),
    )
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    treating_doctor = models.ForeignKey(
        "directory.Professional",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="treated_patients",
        verbose_name=_("médecin traitant"),
    )
    followed_by = models.ManyToManyField(
        "directory.Structure",
        blank=True,
        related_name="followed_patients",
        verbose_name=_("structures following the patient"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_record",
    )
    # Received from FHIR clients and imports, kept as sent (maillage.patients.details).
    # The managing organisation is data, not a relation: the policy never reads it.
    managing_organization = models.ForeignKey(
        "directory.Structure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("managing organisation"),
    )
    marital_status_system = models.CharField(max_length=255, blank=True)
    marital_status_code = models.CharField(max_length=64, blank=True)
    marital_status_display = models.CharField(max_length=200, blank=True)
    marital_status_text = models.CharField(max_length=200, blank=True)
    deceased = models.BooleanField(null=True, blank=True)
    # A FHIR dateTime as sent: it may be a year or a month alone.
    deceased_date_time = models.CharField(max_length=40, blank=True)
    multiple_birth = models.BooleanField(null=True, blank=True)
    birth_order = models.PositiveSmallIntegerField(null=True, blank=True)
    # Whether rows of the tables below (identifiers of other systems, full
    # addresses, telecoms) exist: a read of a record that has none, as every
    # record made on a page, costs no query for them.
    details_kept = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by each change of the identity (maillage.patients.actions), in
    # the transaction that writes it; the earlier versions are PatientVersion rows.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["birth_name", "first_birth_given_name"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["birth_name", "birth_date"], name="patient_name_birth")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.birth_date:%d/%m/%Y})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.match_key = identity_match_key(
            self.birth_name, self.first_birth_given_name, self.birth_date
        )
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def display_name(self) -> str:
        """Birth name in capitals and used given name, as identity vigilance asks."""
        given = self.used_given_name or self.first_birth_given_name
        used = (
            f" ({self.used_name})" if self.used_name and self.used_name != self.birth_name else ""
        )
        return f"{self.birth_name.upper()}{used} {given}"

    @property
    def identity_status(self) -> IdentityStatus:
        return identity_status(
            retrieved_from_insi=self.retrieved_from_insi,
            checked_on_document=bool(self.identity_document),
            doubtful=self.doubtful,
            fictitious=self.fictitious,
        )

    def get_identity_status_display(self) -> str:
        return str(IdentityStatusChoice(self.identity_status.value).label)

    @property
    def matricule_transmissible(self) -> bool:
        return bool(self.ins_matricule) and may_transmit_matricule(self.identity_status)


# --- Kept as received (maillage.patients.details) ---------------------------
# Written by patients.actions only, all of a patient's rows replaced at once.
# Column sizes are checked by the readers first (maillage.fhir.mapping.patient_input).

MAX_URI, MAX_CODE, MAX_LABEL, MAX_VALUE = 255, 64, 200, 200
MAX_ADDRESS_PART, MAX_POSTAL_CODE, MAX_ADDRESS_TEXT = 100, 20, 500


class PatientIdentifier(models.Model):
    """An identifier another system gave the patient, as sent: never a matricule INS."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="other_identifiers")
    position = models.PositiveSmallIntegerField()
    system = models.CharField(max_length=MAX_URI)
    value = models.CharField(max_length=MAX_VALUE)
    use = models.CharField(max_length=10, blank=True)
    type_system = models.CharField(max_length=MAX_URI, blank=True)
    type_code = models.CharField(max_length=MAX_CODE, blank=True)
    type_display = models.CharField(max_length=MAX_LABEL, blank=True)
    type_text = models.CharField(max_length=MAX_LABEL, blank=True)

    class Meta:
        ordering = ["patient", "position"]
        verbose_name = _("identifier of another system")
        verbose_name_plural = _("identifiers of other systems")
        constraints = [
            models.UniqueConstraint(fields=["patient", "position"], name="patient_identifier_pos")
        ]
        # A search by identifier=system|value, and If-None-Exist on it.
        indexes = [models.Index(fields=["system", "value"], name="patient_identifier_sv")]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class PatientContact(models.Model):
    """A contact person of the patient (next of kin, emergency…), as received."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField()
    relationship_system = models.CharField(max_length=MAX_URI, blank=True)
    relationship_code = models.CharField(max_length=MAX_CODE, blank=True)
    relationship_display = models.CharField(max_length=MAX_LABEL, blank=True)
    relationship_text = models.CharField(max_length=MAX_LABEL, blank=True)
    family = models.CharField(max_length=MAX_LABEL, blank=True)
    # One given name per line.
    given = models.TextField(blank=True)
    gender = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["patient", "position"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(fields=["patient", "position"], name="patient_contact_pos")
        ]

    def __str__(self) -> str:
        return f"{self.family} {' '.join(self.given.splitlines())}".strip()


class PatientLanguage(models.Model):
    """A language the patient speaks (Patient.communication), as received."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="languages")
    position = models.PositiveSmallIntegerField()
    system = models.CharField(max_length=MAX_URI, blank=True)
    code = models.CharField(max_length=MAX_CODE, blank=True)
    display = models.CharField(max_length=MAX_LABEL, blank=True)
    text = models.CharField(max_length=MAX_LABEL, blank=True)
    preferred = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "position"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "position"], name="patient_language_pos")
        ]

    def __str__(self) -> str:
        return self.code or self.text


class PatientAddress(models.Model):
    """A postal address as received: lines, city, district, state, postal code, country.

    With ``contact`` set, the address of that contact person. Positions run
    over all of a patient's addresses, the contacts' ones after hers.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="addresses")
    contact = models.ForeignKey(
        PatientContact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    position = models.PositiveSmallIntegerField()
    use = models.CharField(max_length=10, blank=True)
    type = models.CharField(max_length=10, blank=True)
    text = models.CharField(max_length=MAX_ADDRESS_TEXT, blank=True)
    # One line per line of text: the readers refuse control characters in a line.
    lines = models.TextField(blank=True)
    city = models.CharField(max_length=MAX_ADDRESS_PART, blank=True)
    district = models.CharField(max_length=MAX_ADDRESS_PART, blank=True)
    state = models.CharField(max_length=MAX_ADDRESS_PART, blank=True)
    postal_code = models.CharField(max_length=MAX_POSTAL_CODE, blank=True)
    country = models.CharField(max_length=MAX_ADDRESS_PART, blank=True)
    commune = models.ForeignKey(
        "territory.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    main = models.BooleanField(default=False)

    class Meta:
        ordering = ["patient", "position"]
        verbose_name = _("postal address")
        verbose_name_plural = _("postal addresses")
        constraints = [
            models.UniqueConstraint(fields=["patient", "position"], name="patient_address_pos")
        ]

    def __str__(self) -> str:
        return ", ".join([*self.line_list, self.postal_code, self.city, self.country])

    @property
    def line_list(self) -> list[str]:
        return self.lines.split("\n") if self.lines else []


class PatientTelecom(models.Model):
    """A phone, email or other contact point as received; with ``contact``, a contact's."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="telecoms")
    contact = models.ForeignKey(
        PatientContact, null=True, blank=True, on_delete=models.CASCADE, related_name="telecoms"
    )
    position = models.PositiveSmallIntegerField()
    system = models.CharField(max_length=10)
    value = models.CharField(max_length=MAX_VALUE)
    use = models.CharField(max_length=10, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    main = models.BooleanField(default=False)

    class Meta:
        ordering = ["patient", "position"]
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.UniqueConstraint(fields=["patient", "position"], name="patient_telecom_pos")
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.value}"


class PatientVersion(models.Model):
    """An earlier version of an identity, kept when a change replaced it.

    ``identity`` holds the identity fields of that version (IDENTITY_FIELDS of
    maillage.patients.identity, related rows by primary key) and what the
    record kept beyond them (maillage.patients.details): the domain's own
    words, not a FHIR resource (maillage.patients.versions reads and writes
    it). Written only by maillage.patients.actions.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    identity = models.JSONField()
    # When this version was written (its lastUpdated), and when and by whom
    # the next one replaced it.
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="patient_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} v{self.version}"
