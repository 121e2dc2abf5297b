"""Every URL the API names: identifier systems, code systems, extensions, profiles.

French ones come from FR Core (hl7.fr/ig/fhir/core) and the ANS NOS
terminologies (see ../shared/STANDARDS.md). The ``maillage.example`` ones are
ours: they say what no French profile says yet (tele-expertise commitments,
the equipment of a teleconsultation point, the kind of a structure).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from maillage.directory.terminology import (
    FINESS_SYSTEM,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    PROFESSION_SYSTEM,
    RPPS_SYSTEM,
    SIRET_SYSTEM,
    SPECIALTY_SYSTEM,
)

__all__ = [
    "FINESS_SYSTEM",
    "IDNPS_SYSTEM",
    "IDNST_SYSTEM",
    "PROFESSION_SYSTEM",
    "RPPS_SYSTEM",
    "SIRET_SYSTEM",
    "SPECIALTY_SYSTEM",
]

FR_CORE = "https://hl7.fr/ig/fhir/core"
FR_CORE_PATIENT = f"{FR_CORE}/StructureDefinition/fr-core-patient"
FR_CORE_PRACTITIONER = f"{FR_CORE}/StructureDefinition/fr-core-practitioner"
FR_CORE_PRACTITIONER_ROLE = f"{FR_CORE}/StructureDefinition/fr-core-practitioner-role"
FR_CORE_ORGANIZATION = f"{FR_CORE}/StructureDefinition/fr-core-organization"
FR_CORE_LOCATION = f"{FR_CORE}/StructureDefinition/fr-core-location"
# FR Core 2.2.0 profiles Consent without constraining its elements.
FR_CORE_CONSENT = f"{FR_CORE}/StructureDefinition/fr-core-consent"

IDENTIFIER_TYPE_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0203"
IDENTITY_RELIABILITY_EXTENSION = f"{FR_CORE}/StructureDefinition/fr-core-identity-reliability"
IDENTITY_STATUS_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-identity-status"
INSEE_CODE_EXTENSION = f"{FR_CORE}/StructureDefinition/fr-core-address-insee-code"
EMAIL_TYPE_EXTENSION = f"{FR_CORE}/StructureDefinition/fr-core-contact-point-email-type"
BIRTH_PLACE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
LOCATION_DISTANCE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/location-distance"

# ANS NOS: communes (TRE_R13, the value set FR Core binds the INSEE code to)
# and kinds of mailbox (TRE_R256, MSSANTE for the secure-messaging address).
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
MAILBOX_TYPE_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
)
# TRE_A07 (OID 1.2.250.1.213.1.1.4.13), the visibility of a document: its canonical
# URL, as published by the ANS terminology server; the OID is accepted on input.
VISIBILITY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
    "TRE-A07-StatutVisibiliteDocument"
)
VISIBILITY_OID = "urn:oid:1.2.250.1.213.1.1.4.13"
LOINC = "http://loinc.org"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
UCUM = "http://unitsofmeasure.org"
RESTFUL_SECURITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/restful-security-service"

# HL7 terminologies of Consent and AuditEvent.
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
AUDIT_EVENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
AUDIT_ENTITY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/object-role"
SECURITY_SOURCE_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/security-source-type"
RESTFUL_INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
DICOM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"

# Ours.
MAILLAGE_FHIR = "https://maillage.example/fhir"
TELEEXPERTISE_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/teleexpertise"
EQUIPMENT_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/equipment"
MAILBOX_KIND_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/mailbox-kind"
STRUCTURE_KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/structure-kind"
EQUIPMENT_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/equipment"
MAILBOX_KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/mailbox-kind"
DOCUMENT_TYPE_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/document-type"
CONSENT_KIND_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/consent-kind"
AUDIT_ACTION_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/audit-action"
ROLE_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/role"
ACCESS_BASIS_SYSTEM = f"{MAILLAGE_FHIR}/CodeSystem/access-basis"
ACCESS_BASIS_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/access-basis"
# Attachment.hash is a SHA-1; we keep (and check) the SHA-256 of every file.
SHA256_EXTENSION = f"{MAILLAGE_FHIR}/StructureDefinition/attachment-sha256"


# --- INS identifier systems by environment -------------------------------

INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA = "urn:oid:1.2.250.1.213.1.4.9"
INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
INS_NIR_DEMO = "urn:oid:1.2.250.1.213.1.4.11"
ALL_INS_SYSTEMS = frozenset({INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO})


@dataclass(frozen=True)
class InsSystem:
    system: str
    type_code: str  # in IDENTIFIER_TYPE_SYSTEM
    use: str  # Identifier.use
    kind: str  # Patient.ins_kind it stands for


_NIR = InsSystem(INS_NIR, "INS-NIR", "official", "NIR")
_NIA = InsSystem(INS_NIA, "INS-NIA", "temp", "NIA")
_TEST = InsSystem(INS_NIR_TEST, "INS-NIR-TEST", "official", "NIR")
_DEMO = InsSystem(INS_NIR_DEMO, "INS-NIR-DEMO", "official", "NIR")

# Test and demo data must never travel under the real OIDs, and real
# matricules never under the test ones: each environment has its own systems.
_BY_ENVIRONMENT: dict[str, tuple[InsSystem, ...]] = {
    "production": (_NIR, _NIA),
    "test": (_TEST,),
    "demo": (_DEMO,),
}


def ins_environment() -> str:
    environment = settings.MAILLAGE_INS_ENVIRONMENT
    if environment not in _BY_ENVIRONMENT:
        raise ImproperlyConfigured(
            f"MAILLAGE_INS_ENVIRONMENT must be one of {sorted(_BY_ENVIRONMENT)}, "
            f"not {environment!r}"
        )
    return environment


def accepted_ins_systems() -> dict[str, InsSystem]:
    """The INS systems this installation accepts, by system URL."""
    return {s.system: s for s in _BY_ENVIRONMENT[ins_environment()]}


def emitted_ins_system(kind: str) -> InsSystem:
    """The system a matricule of this kind (NIR/NIA) is sent under here."""
    systems = _BY_ENVIRONMENT[ins_environment()]
    return next((s for s in systems if s.kind == kind), systems[0])
