"""The directory to FHIR: Practitioner, PractitionerRole, Organization, Location.

A Structure is both an Organization (who it is: identifiers, kind) and a
Location (where it is: position, equipment), under the same id, as FR Core
does for a health establishment's geographic entity.

Our own extensions (see maillage.fhir.systems):
- ``…/StructureDefinition/teleexpertise`` on PractitionerRole: sub-extensions
  ``available`` (valueBoolean: the professional answers tele-expertise
  requests) and ``responseTime`` (valueDuration in hours: the response time
  they commit to).
- ``…/StructureDefinition/equipment`` on Location: one valueCodeableConcept
  per device of the place, from ``…/CodeSystem/equipment``.
- ``…/StructureDefinition/mailbox-kind`` on an MSSanté ContactPoint: the
  mailbox type of the national directory (PER, ORG, APP, CAB).
"""

from __future__ import annotations

from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole

from maillage.directory.models import (
    EquipmentKind,
    Practice,
    Professional,
    Structure,
    StructureKind,
)
from maillage.directory.terminology import PROFESSION_DISPLAY, SPECIALTY_DISPLAY, Profession
from maillage.fhir.mapping.common import coding, commune_address, compact, concept, meta, reference
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    EMAIL_TYPE_EXTENSION,
    EQUIPMENT_EXTENSION,
    EQUIPMENT_SYSTEM,
    FINESS_SYSTEM,
    FR_CORE_LOCATION,
    FR_CORE_ORGANIZATION,
    FR_CORE_PRACTITIONER,
    FR_CORE_PRACTITIONER_ROLE,
    IDENTIFIER_TYPE_SYSTEM,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    MAILBOX_KIND_EXTENSION,
    MAILBOX_KIND_SYSTEM,
    MAILBOX_TYPE_SYSTEM,
    PHYSICAL_TYPE_SYSTEM,
    PROFESSION_SYSTEM,
    RPPS_SYSTEM,
    SIRET_SYSTEM,
    SPECIALTY_SYSTEM,
    STRUCTURE_KIND_SYSTEM,
    TELEEXPERTISE_EXTENSION,
    UCUM,
)
from maillage.fhir.validation import emit

# What the IDNPS and IDNST prefix their national number with (ANS CI-SIS).
IDNPS_PREFIX_RPPS = "8"
IDNST_PREFIX_FINESS = "1"


def _identifier(system: str, value: str, type_code: str, use: str = "official") -> Json:
    return {
        "use": use,
        "type": {"coding": [coding(IDENTIFIER_TYPE_SYSTEM, type_code)]},
        "system": system,
        "value": value,
    }


def _mssante(address: str, mailbox_kind: str = "") -> Json:
    """A secure-messaging address, flagged MSSanté as FR Core does."""
    extensions = [
        {"url": EMAIL_TYPE_EXTENSION, "valueCoding": coding(MAILBOX_TYPE_SYSTEM, "MSSANTE")}
    ]
    if mailbox_kind:
        kind = coding(MAILBOX_KIND_SYSTEM, mailbox_kind)
        extensions.append({"url": MAILBOX_KIND_EXTENSION, "valueCoding": kind})
    return {"extension": extensions, "system": "email", "value": address, "use": "work"}


def profession_concept(code: str) -> Json:
    return concept(PROFESSION_SYSTEM, code, PROFESSION_DISPLAY.get(code, ""))


def specialty_concept(code: str) -> Json:
    return concept(SPECIALTY_SYSTEM, code, SPECIALTY_DISPLAY.get(code, ""))


def structure_kind_concept(kind: str) -> Json:
    label = StructureKind(kind).label if kind in StructureKind.values else ""
    return concept(STRUCTURE_KIND_SYSTEM, kind, str(label))


# --- Practitioner ----------------------------------------------------------


def _practitioner_telecom(professional: Professional) -> list[Json]:
    telecom: list[Json] = []
    if professional.phone:
        telecom.append({"system": "phone", "value": professional.phone, "use": "work"})
    # An unlisted mailbox stays out of every directory, ours included.
    if professional.secure_messaging_address and not professional.mailbox_unlisted:
        telecom.append(_mssante(professional.secure_messaging_address, professional.mailbox_type))
    return telecom


def practitioner_resource(professional: Professional) -> Json:
    qualifications = [{"code": profession_concept(professional.profession)}]
    if professional.specialty:
        qualifications.append({"code": specialty_concept(professional.specialty)})
    name: Json = {
        "use": "official",
        "family": professional.last_name,
        "given": [professional.first_name],
    }
    if professional.profession == Profession.DOCTOR:
        name["prefix"] = ["Dr"]
    data: Json = {
        "resourceType": "Practitioner",
        "id": str(professional.uuid),
        "meta": meta(professional.updated_at, profile=FR_CORE_PRACTITIONER),
        "identifier": [
            _identifier(RPPS_SYSTEM, professional.rpps, "RPPS"),
            _identifier(IDNPS_SYSTEM, IDNPS_PREFIX_RPPS + professional.rpps, "IDNPS"),
        ],
        "active": professional.active,
        "name": [name],
        "telecom": _practitioner_telecom(professional),
        "qualification": qualifications,
    }
    return emit(FhirPractitioner, data)


# --- PractitionerRole ------------------------------------------------------


def _teleexpertise(professional: Professional) -> Json:
    parts: list[Json] = [{"url": "available", "valueBoolean": professional.accepts_teleexpertise}]
    hours = professional.teleexpertise_response_hours
    if professional.accepts_teleexpertise and hours:
        parts.append(
            {
                "url": "responseTime",
                "valueDuration": {"value": hours, "unit": "h", "system": UCUM, "code": "h"},
            }
        )
    return {"url": TELEEXPERTISE_EXTENSION, "extension": parts}


def practitioner_role_resource(practice: Practice) -> Json:
    """``practice`` with its professional and structure loaded."""
    professional, structure = practice.professional, practice.structure
    data: Json = {
        "resourceType": "PractitionerRole",
        "id": str(practice.uuid),
        "meta": meta(
            max(practice.updated_at, professional.updated_at, structure.updated_at),
            profile=FR_CORE_PRACTITIONER_ROLE,
        ),
        "extension": [_teleexpertise(professional)],
        "active": professional.active and structure.active,
        "practitioner": reference("Practitioner", professional.uuid, professional.display_name),
        "organization": reference("Organization", structure.uuid, structure.name),
        "code": [profession_concept(professional.profession)],
        "specialty": [specialty_concept(professional.specialty)] if professional.specialty else [],
        "location": [reference("Location", structure.uuid, structure.name)],
        "telecom": _practitioner_telecom(professional),
    }
    return emit(FhirPractitionerRole, data)


# --- Organization and Location --------------------------------------------


def _structure_identifiers(structure: Structure) -> list[Json]:
    identifiers = []
    if structure.finess:
        identifiers.append(
            _identifier(FINESS_SYSTEM, structure.finess, structure.finess_type or "FINEG")
        )
        identifiers.append(
            _identifier(IDNST_SYSTEM, IDNST_PREFIX_FINESS + structure.finess, "IDNST")
        )
    if structure.siret:
        identifiers.append(_identifier(SIRET_SYSTEM, structure.siret, "SIRET"))
    return identifiers


def _structure_telecom(structure: Structure) -> list[Json]:
    telecom: list[Json] = []
    if structure.phone:
        telecom.append({"system": "phone", "value": structure.phone, "use": "work"})
    if structure.secure_messaging_address:
        telecom.append(_mssante(structure.secure_messaging_address, "ORG"))
    return telecom


def _address(structure: Structure) -> list[Json]:
    return compact(
        [commune_address(structure.commune, structure.address_line, structure.postal_code, "work")]
    )


def organization_resource(structure: Structure) -> Json:
    """``structure`` with its commune loaded."""
    data: Json = {
        "resourceType": "Organization",
        "id": str(structure.uuid),
        "meta": meta(structure.updated_at, profile=FR_CORE_ORGANIZATION),
        "identifier": _structure_identifiers(structure),
        "active": structure.active,
        "type": [structure_kind_concept(structure.kind)],
        "name": structure.name,
        "telecom": _structure_telecom(structure),
        "address": _address(structure),
    }
    return emit(FhirOrganization, data)


def equipment_extension(kind: str) -> Json:
    label = EquipmentKind(kind).label if kind in EquipmentKind.values else ""
    value = concept(EQUIPMENT_SYSTEM, kind, str(label))
    return {"url": EQUIPMENT_EXTENSION, "valueCodeableConcept": value}


def location_resource(structure: Structure) -> Json:
    """``structure`` with its commune loaded and its equipment prefetched.

    The position is the commune's centroid: the directory knows no finer
    place, and that is what distances are computed from.
    """
    commune = structure.commune
    mobile = structure.kind == StructureKind.MOBILE_UNIT
    data: Json = {
        "resourceType": "Location",
        "id": str(structure.uuid),
        "meta": meta(structure.updated_at, profile=FR_CORE_LOCATION),
        "extension": [equipment_extension(e.kind) for e in structure.equipment.all()],
        "status": "active" if structure.active else "inactive",
        "name": structure.name,
        "mode": "instance",
        "type": [structure_kind_concept(structure.kind)],
        "telecom": _structure_telecom(structure),
        "address": next(iter(_address(structure)), None),
        "physicalType": concept(
            PHYSICAL_TYPE_SYSTEM, "ve" if mobile else "bu", "Vehicle" if mobile else "Building"
        ),
        "position": {"latitude": commune.latitude, "longitude": commune.longitude},
        "managingOrganization": reference("Organization", structure.uuid, structure.name),
    }
    return emit(FhirLocation, data)
