"""Patient (identity) to FHIR Patient, FR Core style.

The matricule INS is sent only for a qualified identity (RNIV): for any
other status the identifier is left out, never sent with a warning. What
the record keeps as received (``maillage.patients.details``: identifiers of
other systems, addresses, telecoms) is sent back as it came, so that a read
gives back what was created.
"""

from __future__ import annotations

from fhir.resources.R4B.patient import Patient as FhirPatient

from maillage.fhir.mapping.common import coding as make_coding
from maillage.fhir.mapping.common import commune_address, compact, insee_code_extension, meta
from maillage.fhir.mapping.common import reference as make_reference
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    BIRTH_PLACE_EXTENSION,
    FR_CORE_PATIENT,
    IDENTIFIER_TYPE_SYSTEM,
    IDENTITY_RELIABILITY_EXTENSION,
    IDENTITY_STATUS_SYSTEM,
    emitted_ins_system,
)
from maillage.fhir.validation import emit
from maillage.patients.details import (
    Coded,
    Contact,
    OtherIdentifier,
    PatientDetails,
    PostalAddress,
    Telecom,
    details_of,
)
from maillage.patients.models import Patient

GENDERS = {"M": "male", "F": "female"}

# Displays of fr-core-cs-identity-status.
STATUS_DISPLAY = {
    "PROV": "Identité provisoire",
    "RECUP": "Identité récupérée",
    "VALI": "Identité validée",
    "QUAL": "Identité qualifiée",
}


def given_names(patient: Patient) -> list[str]:
    """Birth given names as a list whose first item is the first birth given name.

    The list is kept as one string of space-separated names; the first name
    may itself hold a space, so its words are not split off the rest.
    """
    first = patient.first_birth_given_name.strip()
    words = patient.birth_given_names.split()
    rest = words[len(first.split()) :]
    return [first, *rest] if first else words


def _reliability(patient: Patient) -> Json:
    status = patient.identity_status.value
    return {
        "url": IDENTITY_RELIABILITY_EXTENSION,
        "extension": [
            {
                "url": "identityStatus",
                "valueCoding": make_coding(IDENTITY_STATUS_SYSTEM, status, STATUS_DISPLAY[status]),
            }
        ],
    }


def _birth_place(patient: Patient) -> Json | None:
    if not patient.birthplace_code:
        return None
    return {
        "url": BIRTH_PLACE_EXTENSION,
        "valueAddress": {"extension": [insee_code_extension(patient.birthplace_code)]},
    }


def _ins_identifier(patient: Patient) -> Json | None:
    if not patient.matricule_transmissible:
        return None
    ins = emitted_ins_system(patient.ins_kind)
    return {
        "use": ins.use,
        "type": {"coding": [make_coding(IDENTIFIER_TYPE_SYSTEM, ins.type_code)]},
        "system": ins.system,
        "value": patient.ins_matricule,
    }


def _names(patient: Patient) -> list[Json]:
    names: list[Json] = [
        {"use": "official", "family": patient.birth_name, "given": given_names(patient)}
    ]
    if patient.used_name or patient.used_given_name:
        usual: Json = {"use": "usual"}
        if patient.used_name:
            usual["family"] = patient.used_name
        if patient.used_given_name:
            usual["given"] = [patient.used_given_name]
        names.append(usual)
    return names


def _telecom(patient: Patient, details: PatientDetails) -> list[Json]:
    """The telecoms as received; the phone or email set on a page, when none came with it."""
    telecom = []
    for system, value in (("phone", patient.phone), ("email", patient.email)):
        if value and not any(t.main and t.system == system for t in details.telecoms):
            telecom.append({"system": system, "value": value})
    return telecom + [_contact_point(t) for t in details.telecoms]


def _contact_point(telecom: Telecom) -> Json:
    point: Json = {"system": telecom.system, "value": telecom.value}
    if telecom.use:
        point["use"] = telecom.use
    if telecom.rank is not None:
        point["rank"] = telecom.rank
    return point


def _other_identifier(identifier: OtherIdentifier) -> Json:
    sent: Json = {}
    if identifier.use:
        sent["use"] = identifier.use
    kind: Json = {}
    if identifier.type_system or identifier.type_code or identifier.type_display:
        kind["coding"] = [
            {
                k: v
                for k, v in (
                    ("system", identifier.type_system),
                    ("code", identifier.type_code),
                    ("display", identifier.type_display),
                )
                if v
            }
        ]
    if identifier.type_text:
        kind["text"] = identifier.type_text
    if kind:
        sent["type"] = kind
    if identifier.system:
        sent["system"] = identifier.system
    if identifier.value:
        sent["value"] = identifier.value
    return sent


def _concept(coded: Coded) -> Json | None:
    if not coded:
        return None
    sent: Json = {}
    coding = {
        k: v
        for k, v in (("system", coded.system), ("code", coded.code), ("display", coded.display))
        if v
    }
    if coding:
        sent["coding"] = [coding]
    if coded.text:
        sent["text"] = coded.text
    return sent


def _contact(contact: Contact) -> Json:
    sent: Json = {}
    relationship = _concept(contact.relationship)
    if relationship:
        sent["relationship"] = [relationship]
    name: Json = {}
    if contact.family:
        name["family"] = contact.family
    if contact.given:
        name["given"] = list(contact.given)
    if name:
        sent["name"] = name
    if contact.telecoms:
        sent["telecom"] = [_contact_point(t) for t in contact.telecoms]
    address = _postal_address(contact.address) if contact.address is not None else None
    if address:
        sent["address"] = address
    if contact.gender:
        sent["gender"] = contact.gender
    return sent


def _received(details: PatientDetails) -> Json:
    """The elements only a client or an import gives, as they were received."""
    sent: Json = {}
    if details.contacts:
        sent["contact"] = [_contact(c) for c in details.contacts]
    organization = details.managing_organization
    if organization is not None:
        sent["managingOrganization"] = make_reference(
            "Organization", organization.uuid, organization.name
        )
    marital_status = _concept(details.marital_status)
    if marital_status:
        sent["maritalStatus"] = marital_status
    if details.languages:
        sent["communication"] = [
            {"language": _concept(lang.language) or {}}
            | ({"preferred": lang.preferred} if lang.preferred is not None else {})
            for lang in details.languages
        ]
    if details.deceased_date_time:
        sent["deceasedDateTime"] = details.deceased_date_time
    elif details.deceased is not None:
        sent["deceasedBoolean"] = details.deceased
    if details.birth_order is not None:
        sent["multipleBirthInteger"] = details.birth_order
    elif details.multiple_birth is not None:
        sent["multipleBirthBoolean"] = details.multiple_birth
    return sent


def _addresses(patient: Patient, details: PatientDetails) -> list[Json]:
    """The addresses as received; the one set on a page when the received home one went."""
    addresses = [_postal_address(a) for a in details.addresses]
    if not any(a.main for a in details.addresses):
        addresses.insert(0, commune_address(patient.commune, patient.address_line, use="home"))
    return compact(addresses)


def _postal_address(address: PostalAddress) -> Json | None:
    sent: Json = {}
    if address.commune is not None:
        sent["extension"] = [insee_code_extension(address.commune.insee_code)]
    parts = (
        ("use", address.use),
        ("type", address.type),
        ("text", address.text),
        ("line", list(address.lines)),
        ("city", address.city),
        ("district", address.district),
        ("state", address.state),
        ("postalCode", address.postal_code),
        ("country", address.country),
    )
    sent.update((key, value) for key, value in parts if value)
    return sent or None


def patient_resource(patient: Patient, details: PatientDetails | None = None) -> Json:
    """The FHIR Patient; ``patient`` must come from the gate, with commune and doctor.

    ``details``: those of an earlier version (maillage.patients.versions);
    by default, what the record keeps now.
    """
    doctor = patient.treating_doctor
    if details is None:
        details = details_of(patient)
    data: Json = {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "meta": meta(patient.updated_at, patient.version, FR_CORE_PATIENT),
        "extension": compact([_reliability(patient), _birth_place(patient)]),
        "identifier": compact(
            [_ins_identifier(patient), *(_other_identifier(i) for i in details.identifiers)]
        ),
        "name": _names(patient),
        "telecom": _telecom(patient, details),
        "gender": GENDERS.get(patient.sex, "unknown"),
        "birthDate": patient.birth_date.isoformat(),
        "address": _addresses(patient, details),
        "generalPractitioner": [make_reference("Practitioner", doctor.uuid, doctor.display_name)]
        if doctor is not None
        else [],
        **_received(details),
    }
    return emit(FhirPatient, data)
