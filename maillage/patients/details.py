"""What a record keeps beyond the identity, as it was received (a FHIR client, an import):
other systems' identifiers, full addresses, telecoms, contact persons, languages,
marital status, managing organisation, death and multiple birth.

Values are kept as sent, never rewritten: a country "US" stays "US", an
identifier's type stays the client's coding. The identity's own fields (the
matricule INS, ``address_line`` and ``commune``, ``phone`` and ``email``)
still drive the rules and the pages; the one address and the telecoms they
were taken from are marked ``main``, so that a page changing them retires
those (see ``patients.actions.update_patient``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.db.models import QuerySet, prefetch_related_objects
from django.utils.functional import Promise

from maillage.patients.labels import (
    CONTACT_ROLES,
    IDENTIFIER_TYPES,
    TELECOM_SYSTEMS,
    TELECOM_USES,
    named,
)

if TYPE_CHECKING:
    from maillage.directory.models import Structure
    from maillage.patients.models import (
        Patient,
        PatientAddress,
        PatientContact,
        PatientIdentifier,
        PatientTelecom,
    )
    from maillage.territory.models import Commune


@dataclass(frozen=True)
class Coded:
    """A CodeableConcept's first coding and its text, as sent."""

    system: str = ""
    code: str = ""
    display: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.system or self.code or self.display or self.text)

    def label(self, words: dict[str, Promise]) -> str:
        """What a page shows: the text or display as sent, else our word for the code."""
        return self.text or self.display or named(words, self.code)


@dataclass(frozen=True)
class OtherIdentifier:
    """An identifier another system gave the person: never a matricule INS."""

    system: str
    value: str
    use: str = ""
    type_system: str = ""
    type_code: str = ""
    type_display: str = ""
    type_text: str = ""

    @property
    def type_label(self) -> str:
        return self.type_text or self.type_display or named(IDENTIFIER_TYPES, self.type_code)


@dataclass(frozen=True)
class PostalAddress:
    use: str = ""
    type: str = ""
    text: str = ""
    lines: tuple[str, ...] = ()
    city: str = ""
    district: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    # The commune of the territory it names, when one could be told (French addresses).
    commune: Commune | None = None
    # The address the identity's address_line and commune were taken from.
    main: bool = False


@dataclass(frozen=True)
class Telecom:
    system: str
    value: str
    use: str = ""
    rank: int | None = None
    # The phone or email the identity's own field was taken from.
    main: bool = False

    @property
    def label(self) -> str:
        """ "téléphone, portable": what kind of contact point, in French."""
        words = [named(TELECOM_SYSTEMS, self.system)]
        if self.use:
            words.append(named(TELECOM_USES, self.use))
        return ", ".join(words)


@dataclass(frozen=True)
class Contact:
    relationship: Coded = Coded()
    family: str = ""
    given: tuple[str, ...] = ()
    gender: str = ""
    telecoms: tuple[Telecom, ...] = ()
    address: PostalAddress | None = None

    @property
    def relationship_label(self) -> str:
        return self.relationship.label(CONTACT_ROLES)


@dataclass(frozen=True)
class Language:
    language: Coded
    preferred: bool | None = None


@dataclass(frozen=True)
class PatientDetails:
    identifiers: tuple[OtherIdentifier, ...] = ()
    addresses: tuple[PostalAddress, ...] = ()
    telecoms: tuple[Telecom, ...] = ()
    contacts: tuple[Contact, ...] = ()
    languages: tuple[Language, ...] = ()
    # Columns of the patient row itself.
    managing_organization: Structure | None = None
    marital_status: Coded = Coded()
    deceased: bool | None = None
    deceased_date_time: str = ""
    multiple_birth: bool | None = None
    birth_order: int | None = None

    @property
    def in_tables(self) -> bool:
        """Whether any of it is held in rows of the detail tables (not the patient's own)."""
        return bool(
            self.identifiers or self.addresses or self.telecoms or self.contacts or self.languages
        )

    def columns(self) -> dict[str, object]:
        """The patient's own fields that hold the rest."""
        return {
            "managing_organization": self.managing_organization,
            "marital_status_system": self.marital_status.system,
            "marital_status_code": self.marital_status.code,
            "marital_status_display": self.marital_status.display,
            "marital_status_text": self.marital_status.text,
            "deceased": self.deceased,
            "deceased_date_time": self.deceased_date_time,
            "multiple_birth": self.multiple_birth,
            "birth_order": self.birth_order,
        }


# The rows ``details_of`` reads, loaded for a whole page in one query each.
DETAIL_RELATIONS = ("other_identifiers", "addresses__commune", "telecoms", "contacts", "languages")


def prefetch_details(patients: Sequence[Patient]) -> None:
    """Load the kept details of a list of patients at once (those that have any)."""
    prefetch_related_objects([p for p in patients if p.details_kept], *DETAIL_RELATIONS)
    prefetch_related_objects(
        [p for p in patients if p.managing_organization_id is not None], "managing_organization"
    )


def details_of(patient: Patient) -> PatientDetails:
    """What the record keeps of a patient beyond the identity (no query when nothing).

    ``patient`` comes from the gate: reading it is already decided and audited.
    """
    columns = PatientDetails(
        managing_organization=patient.managing_organization
        if patient.managing_organization_id is not None
        else None,
        marital_status=Coded(
            patient.marital_status_system,
            patient.marital_status_code,
            patient.marital_status_display,
            patient.marital_status_text,
        ),
        deceased=patient.deceased,
        deceased_date_time=patient.deceased_date_time,
        multiple_birth=patient.multiple_birth,
        birth_order=patient.birth_order,
    )
    if not patient.details_kept:
        return columns
    prefetch_details([patient])
    addresses = list(patient.addresses.all())
    telecoms = list(patient.telecoms.all())
    return replace(
        columns,
        identifiers=tuple(
            OtherIdentifier(
                system=i.system,
                value=i.value,
                use=i.use,
                type_system=i.type_system,
                type_code=i.type_code,
                type_display=i.type_display,
                type_text=i.type_text,
            )
            for i in patient.other_identifiers.all()
        ),
        addresses=tuple(_address(a) for a in addresses if a.contact_id is None),
        telecoms=tuple(_telecom(t) for t in telecoms if t.contact_id is None),
        contacts=tuple(_contact(c, addresses, telecoms) for c in patient.contacts.all()),
        languages=tuple(
            Language(Coded(lang.system, lang.code, lang.display, lang.text), lang.preferred)
            for lang in patient.languages.all()
        ),
    )


def _address(row: PatientAddress) -> PostalAddress:
    return PostalAddress(
        use=row.use,
        type=row.type,
        text=row.text,
        lines=tuple(row.line_list),
        city=row.city,
        district=row.district,
        state=row.state,
        postal_code=row.postal_code,
        country=row.country,
        commune=row.commune,
        main=row.main,
    )


def _telecom(row: PatientTelecom) -> Telecom:
    return Telecom(system=row.system, value=row.value, use=row.use, rank=row.rank, main=row.main)


def _contact(
    row: PatientContact, addresses: list[PatientAddress], telecoms: list[PatientTelecom]
) -> Contact:
    address = next((a for a in addresses if a.contact_id == row.pk), None)
    return Contact(
        relationship=Coded(
            row.relationship_system,
            row.relationship_code,
            row.relationship_display,
            row.relationship_text,
        ),
        family=row.family,
        given=tuple(row.given.splitlines()),
        gender=row.gender,
        telecoms=tuple(_telecom(t) for t in telecoms if t.contact_id == row.pk),
        address=_address(address) if address is not None else None,
    )


def other_identifier_holders(system: str, value: str) -> QuerySet[PatientIdentifier, int]:
    """The ids of the patients holding this identifier of another system (a subquery)."""
    from maillage.patients.models import PatientIdentifier

    return PatientIdentifier.objects.filter(system=system, value=value).values_list(
        "patient_id", flat=True
    )
