"""What a record keeps beyond the identity: other systems' identifiers, full addresses,
telecoms, as they were received (from a FHIR client, an import).

Values are kept as sent, never rewritten: a country "US" stays "US", an
identifier's type stays the client's coding. The identity's own fields (the
matricule INS, ``address_line`` and ``commune``, ``phone`` and ``email``)
still drive the rules and the pages; the one address and the telecoms they
were taken from are marked ``main``, so that a page changing them retires
those (see ``patients.actions.update_patient``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maillage.patients.models import Patient
    from maillage.territory.models import Commune


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


@dataclass(frozen=True)
class PatientDetails:
    identifiers: tuple[OtherIdentifier, ...] = ()
    addresses: tuple[PostalAddress, ...] = ()
    telecoms: tuple[Telecom, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.identifiers or self.addresses or self.telecoms)


def details_of(patient: Patient) -> PatientDetails:
    """What the record keeps of a patient beyond the identity (no query when nothing).

    ``patient`` comes from the gate: reading it is already decided and audited.
    """
    if not patient.details_kept:
        return PatientDetails()
    return PatientDetails(
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
        addresses=tuple(
            PostalAddress(
                use=a.use,
                type=a.type,
                text=a.text,
                lines=tuple(a.line_list),
                city=a.city,
                district=a.district,
                state=a.state,
                postal_code=a.postal_code,
                country=a.country,
                commune=a.commune,
                main=a.main,
            )
            for a in patient.addresses.select_related("commune")
        ),
        telecoms=tuple(
            Telecom(system=t.system, value=t.value, use=t.use, rank=t.rank, main=t.main)
            for t in patient.telecoms.all()
        ),
    )
