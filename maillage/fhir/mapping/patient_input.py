"""A received FHIR Patient to the identity input the patients app checks and stores.

What an identity holds is read into its fields: the official name (birth
name and birth given names), the usual name, gender, birth date, birth place
(INSEE code), the INS identifier of this installation's environment, the
first phone and email, the médecin traitant and the home address. Beside
them the record keeps, as sent (``maillage.patients.details``): identifiers
of other systems (never as an INS), every address, every telecom.

Nothing is dropped silently: each element received and not kept is named in
a ``not_kept`` warning (``maillage.fhir.created``), and a value is never
rewritten. The identity status is never taken from the client: it follows
from facts recorded here (INSi call, document checked), so a new identity
starts provisional.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from fhir.resources.R4B.patient import Patient as FhirPatient

from maillage.directory.models import Professional, Structure
from maillage.directory.terminology import Profession
from maillage.fhir.created import not_kept
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    ALL_INS_SYSTEMS,
    BIRTH_PLACE_EXTENSION,
    FR_CORE_PATIENT,
    IDENTIFIER_TYPE_SYSTEM,
    IDENTITY_RELIABILITY_EXTENSION,
    INSEE_CODE_EXTENSION,
    accepted_ins_systems,
    ins_environment,
)
from maillage.fhir.validation import parse
from maillage.lib.ins import InvalidMatricule
from maillage.patients import models as columns
from maillage.patients.details import (
    Coded,
    Contact,
    Language,
    OtherIdentifier,
    PatientDetails,
    PostalAddress,
    Telecom,
)
from maillage.patients.identity import IdentityInput, clean_matricule, matricule_message
from maillage.patients.labels import TELECOM_SYSTEMS, TELECOM_USES
from maillage.territory.models import Commune
from maillage.territory.queries import find_communes

SEXES = {"male": "M", "female": "F"}
_PRACTITIONER = re.compile(r"(?:^|/)Practitioner/(?P<id>[0-9A-Fa-f-]{32,36})$")
_ORGANIZATION = re.compile(r"(?:^|/)Organization/(?P<id>[0-9A-Fa-f-]{32,36})$")
# Column sizes of maillage.patients.models.Patient: longer text is refused
# here with a message rather than by the database with an error.
MAX_NAME, MAX_GIVEN_NAMES, MAX_PHONE, MAX_ADDRESS, MAX_EMAIL = 100, 200, 20, 200, 254
# More of one repeated element than any person has is refused before any work.
MAX_REPEATS = 20
MAX_BIRTH_ORDER = 20
REPEATED = (
    "identifier",
    "name",
    "telecom",
    "address",
    "contact",
    "extension",
    "communication",
    "generalPractitioner",
)
# The arc of the INS systems (ANS OIDs 1.2.250.1.213.1.4.8 to .11) and the
# identifier types FR Core gives them: an identifier claiming either is an INS.
_INS_ARC = "1.2.250.1.213.1.4."
_INS_TYPES = frozenset({"INS-NIR", "INS-NIA", "INS-NIR-TEST", "INS-NIR-DEMO", "INS"})
_FRENCH = frozenset({"", "fr", "fra", "france"})


@dataclass
class PatientInput:
    identity: IdentityInput
    # IdentityInput field -> FHIRPath of the element it came from, so that a
    # rule broken later (maillage.patients.identity) points at the client's element.
    paths: dict[str, str] = field(default_factory=dict)
    # What was received and not kept: the create succeeds and says so.
    warnings: list[Issue] = field(default_factory=list)

    def path_of(self, field_name: str) -> str:
        return self.paths.get(field_name, "Patient")


@dataclass
class _Reader:
    """Collects every problem of a Patient before answering, not just the first."""

    issues: list[Issue] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)

    def problem(self, message: str, path: str, code: str = "invalid") -> None:
        self.issues.append(Issue(message, code=code, expression=(path,)))

    def dropped(self, path: str, message: str = "") -> None:
        self.warnings.append(not_kept(path, message))

    def leftovers(self, element: Json, handled: Iterable[str], path: str) -> None:
        """A warning for each part of ``element`` that no reader took."""
        kept = set(handled)
        for key in element:
            if key not in kept:
                self.dropped(_element_path(path, key))

    def repeats(self, element: Json, name: str, path: str) -> list[Any]:
        """The items of a list element, or none and a problem when there are too many."""
        items = element.get(name, [])
        if len(items) > MAX_REPEATS:
            self.problem(
                _("Too many elements: at most %(max)s.") % {"max": MAX_REPEATS},
                f"{path}.{name}",
                code="too-costly",
            )
            return []
        return list(items)

    def code(self, value: Any, allowed: Iterable[str], path: str) -> str:
        """A code of a required FHIR value set, or "" and a problem naming the set."""
        if value is None or value == "":
            return ""
        accepted = sorted(allowed)
        if value not in accepted:
            self.problem(
                _("This code is not one of: %(codes)s.") % {"codes": ", ".join(accepted)}, path
            )
            return ""
        return str(value)

    def text(self, value: Any, path: str, max_length: int) -> str:
        text = (value or "").strip() if isinstance(value, str) else ""
        if len(text) > max_length:
            self.problem(
                _("This text is too long: at most %(max)s characters.") % {"max": max_length},
                path,
            )
        elif _has_control_character(text):
            self.problem(
                _("This text holds a control character (a tab, a line break or another)."), path
            )
        return text


def _element_path(path: str, key: str) -> str:
    # "_birthDate" holds the extensions of the primitive birthDate.
    return f"{path}.{key[1:]}.extension" if key.startswith("_") else f"{path}.{key}"


def _has_control_character(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


# Required bindings of FHIR R4: nothing else is a valid code, and the columns
# that keep them are short.
IDENTIFIER_USES = frozenset({"usual", "official", "temp", "secondary", "old"})
ADDRESS_USES = frozenset({"home", "work", "temp", "old", "billing"})
ADDRESS_TYPES = frozenset({"postal", "physical", "both"})
GENDERS = frozenset({"male", "female", "other", "unknown"})


def patient_from_json(data: Json) -> FhirPatient:
    """The R4B model of a received Patient; a list longer than any person needs is
    refused first, since validating 10 000 identifiers is itself the cost."""
    _check_repeats(data)
    return parse(FhirPatient, data)


def _check_repeats(data: Json) -> None:
    """A 400 before any work for a list longer than any person needs (10 000 identifiers)."""
    for name in REPEATED:
        items = data.get(name)
        if isinstance(items, list) and len(items) > MAX_REPEATS:
            raise FhirError.single(
                400,
                _("Too many elements: at most %(max)s.") % {"max": MAX_REPEATS},
                code="too-costly",
                expression=f"Patient.{name}",
            )


def identity_from_fhir(resource: FhirPatient) -> PatientInput:
    """The identity and what the record keeps beside it, or a 400 naming every problem."""
    data: Json = resource.model_dump(mode="json", exclude_none=True)
    _check_repeats(data)
    reader = _Reader()
    names = _official_name(reader, resource)
    used_name, used_given = _usual_name(reader, resource)
    sex = _sex(reader, resource)
    birth_date = _birth_date(reader, resource)
    birthplace = _birthplace(reader, resource, data)
    matricule, kind = _ins(reader, resource)
    identifiers = _other_identifiers(reader, data)
    phone, email = _telecom(reader, resource)
    telecoms = _telecoms(reader, data, phone, email)
    doctor = _treating_doctor(reader, data)
    line, commune, addresses = _addresses(reader, data)
    contacts = _contacts(reader, data)
    languages = _languages(reader, data)
    deceased, deceased_date_time = _deceased(data)
    multiple_birth, birth_order = _multiple_birth(reader, data)
    _names_left(reader, data)
    _meta_left(reader, data)
    reader.leftovers(data, HANDLED, "Patient")
    if reader.issues or names is None or sex is None or birth_date is None:
        raise FhirError(400, reader.issues or [Issue(_("The resource is not valid."))])
    family, first, given = names
    identity = IdentityInput(
        birth_name=family,
        first_birth_given_name=first,
        birth_given_names=given,
        birth_date=birth_date,
        sex=sex,
        birthplace_code=birthplace,
        used_name=used_name,
        used_given_name=used_given,
        ins_matricule=matricule,
        ins_kind=kind,
        commune=commune,
        address_line=line,
        phone=phone,
        email=email,
        treating_doctor=doctor,
        details=PatientDetails(
            identifiers=identifiers,
            addresses=addresses,
            telecoms=telecoms,
            contacts=contacts,
            languages=languages,
            managing_organization=_managing_organization(reader, data),
            marital_status=Coded(
                *_concept(reader, data.get("maritalStatus"), "Patient.maritalStatus")
            ),
            deceased=deceased,
            deceased_date_time=deceased_date_time,
            multiple_birth=multiple_birth,
            birth_order=birth_order,
        ),
    )
    return PatientInput(identity, reader.paths, reader.warnings)


# Top-level elements a reader takes (the server gives ``id`` and ``meta``'s versions).
HANDLED = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "identifier",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "address",
        "extension",
        "generalPractitioner",
        "contact",
        "managingOrganization",
        "maritalStatus",
        "communication",
        "deceasedBoolean",
        "deceasedDateTime",
        "multipleBirthBoolean",
        "multipleBirthInteger",
    }
)


def _official_name(reader: _Reader, resource: FhirPatient) -> tuple[str, str, str] | None:
    official = [i for i, n in enumerate(resource.name or []) if n.use == "official"]
    if not official:
        reader.problem(
            _(
                "An official name is required: the birth name (family) and the birth given "
                "names (given), with use “official”."
            ),
            "Patient.name",
            code="required",
        )
        return None
    if len(official) > 1:
        reader.problem(_("Give only one official name."), "Patient.name")
    index = official[0]
    name = (resource.name or [])[index]
    path = f"Patient.name[{index}]"
    family = reader.text(name.family, f"{path}.family", MAX_NAME)
    given = [g.strip() for g in name.given or [] if isinstance(g, str) and g.strip()]
    reader.paths.update(
        birth_name=f"{path}.family",
        first_birth_given_name=f"{path}.given",
        birth_given_names=f"{path}.given",
    )
    if not family:
        reader.problem(
            _("The birth name (family of the official name) is required."),
            f"{path}.family",
            code="required",
        )
    if not given:
        reader.problem(
            _("At least one birth given name is required."), f"{path}.given", code="required"
        )
        return None
    first = reader.text(given[0], f"{path}.given[0]", MAX_NAME)
    all_given = reader.text(" ".join(given), f"{path}.given", MAX_GIVEN_NAMES)
    # Only the first name keeps its spaces (first_birth_given_name): the others
    # are one space-separated list, so "Marie Claire" after it reads back as two.
    for position, sent in enumerate(name.given or []):
        if position > 0 and isinstance(sent, str) and len(sent.split()) > 1:
            reader.dropped(
                f"{path}.given[{position}]",
                _(
                    "The birth given names after the first are kept as one list separated by "
                    "spaces: this compound name will read back as several names."
                ),
            )
    return family, first, all_given


def _usual_name(reader: _Reader, resource: FhirPatient) -> tuple[str, str]:
    usual = [i for i, n in enumerate(resource.name or []) if n.use == "usual"]
    if not usual:
        return "", ""
    if len(usual) > 1:
        reader.problem(_("Give only one usual name."), "Patient.name")
    index = usual[0]
    name = (resource.name or [])[index]
    path = f"Patient.name[{index}]"
    reader.paths.update(used_name=f"{path}.family", used_given_name=f"{path}.given")
    given = next((g for g in name.given or [] if isinstance(g, str) and g.strip()), "")
    return (
        reader.text(name.family, f"{path}.family", MAX_NAME),
        reader.text(given, f"{path}.given[0]", MAX_NAME),
    )


def _sex(reader: _Reader, resource: FhirPatient) -> str | None:
    reader.paths["sex"] = "Patient.gender"
    if resource.gender is None:
        reader.problem(
            _("The sex is required (gender male or female)."), "Patient.gender", code="required"
        )
        return None
    sex = SEXES.get(resource.gender)
    if sex is None:
        reader.problem(
            _(
                "Only male or female can be recorded: the INS strict traits take the sex of "
                "the civil-status register."
            ),
            "Patient.gender",
            code="code-invalid",
        )
    return sex


def _birth_date(reader: _Reader, resource: FhirPatient) -> dt.date | None:
    reader.paths["birth_date"] = "Patient.birthDate"
    value = resource.birthDate
    if value is None:
        reader.problem(_("The birth date is required."), "Patient.birthDate", code="required")
        return None
    if not isinstance(value, dt.date):
        # The model accepts a year or a month alone; an identity needs the day.
        reader.problem(_("The full birth date is required (YYYY-MM-DD)."), "Patient.birthDate")
        return None
    return value


def _birthplace(reader: _Reader, resource: FhirPatient, data: Json) -> str:
    """The INSEE code of the place of birth; every other extension is named as not kept.

    Only the code is an identity trait: the rest of the birthPlace address
    (a city, a country) is named as not kept, and a place without a code
    (most records from abroad) is not kept at all, not refused.
    """
    extensions: list[Json] = data.get("extension", [])
    places = [i for i, e in enumerate(extensions) if e.get("url") == BIRTH_PLACE_EXTENSION]
    for index, extension in enumerate(extensions):
        if index in places[:1]:
            continue
        reader.dropped(
            f"Patient.extension[{index}]",
            _(
                "The identity status is not taken from the client: it follows from what is "
                "recorded here (an INSi answer, a document checked), and a new identity is "
                "provisional."
            )
            if extension.get("url") == IDENTITY_RELIABILITY_EXTENSION
            else "",
        )
    if not places:
        return ""
    index = places[0]
    path = f"Patient.extension[{index}]"
    reader.paths["birthplace_code"] = path
    address = (resource.extension or [])[index].valueAddress
    code = _insee_code(address)
    if not code:
        reader.dropped(
            path,
            _(
                "The place of birth is kept as its INSEE code only (the extension "
                "fr-core-address-insee-code of the valueAddress, 99 and the country code if "
                "born abroad): this one has none and is not kept."
            ),
        )
        return ""
    value: Json = extensions[index].get("valueAddress", {})
    reader.leftovers(extensions[index], {"url", "valueAddress"}, path)
    reader.leftovers(value, {"extension"}, f"{path}.valueAddress")
    for position, extension in enumerate(value.get("extension", [])):
        if extension.get("url") != INSEE_CODE_EXTENSION:
            reader.dropped(f"{path}.valueAddress.extension[{position}]")
    return code


def _insee_code(address: Any) -> str:
    for extension in (address.extension or []) if address is not None else []:
        if extension.url == INSEE_CODE_EXTENSION and extension.valueCoding is not None:
            return str(extension.valueCoding.code or "").strip().upper()
    return ""


def _ins(reader: _Reader, resource: FhirPatient) -> tuple[str | None, str]:
    accepted = accepted_ins_systems()
    found = [
        (i, ident)
        for i, ident in enumerate(resource.identifier or [])
        if ident.system in ALL_INS_SYSTEMS
    ]
    if not found:
        return None, "NIR"
    if len(found) > 1:
        reader.problem(_("Give only one INS identifier."), "Patient.identifier")
    index, identifier = found[0]
    path = f"Patient.identifier[{index}]"
    reader.paths["ins_matricule"] = f"{path}.value"
    # Its use and type follow from its system: they are sent back from it.
    reader.leftovers(
        identifier.model_dump(mode="json", exclude_none=True),
        {"system", "value", "use", "type"},
        path,
    )
    ins = accepted.get(str(identifier.system))
    if ins is None:
        reader.problem(
            _(
                "This INS identifier system is not accepted here: this installation "
                "(%(environment)s) uses %(systems)s."
            )
            % {"environment": ins_environment(), "systems": ", ".join(sorted(accepted))},
            f"{path}.system",
            code="code-invalid",
        )
        return None, "NIR"
    try:
        matricule = clean_matricule(identifier.value or "")
    except InvalidMatricule as error:
        reader.problem(matricule_message(error.problem), f"{path}.value")
        return None, ins.kind
    if matricule is None:
        reader.problem(_("The INS identifier has no value."), f"{path}.value", code="required")
    return matricule, ins.kind


def _telecom(reader: _Reader, resource: FhirPatient) -> tuple[str, str]:
    phone, email = "", ""
    for index, point in enumerate(resource.telecom or []):
        path = f"Patient.telecom[{index}].value"
        if point.system == "phone" and not phone:
            reader.paths["phone"] = path
            phone = reader.text(point.value, path, MAX_PHONE)
        elif point.system == "email" and not email:
            reader.paths["email"] = path
            email = reader.text(point.value, path, MAX_EMAIL)
            try:
                validate_email(email)
            except ValidationError:
                reader.problem(_("This email address is not valid."), path)
    return phone, email


def _other_identifiers(reader: _Reader, data: Json) -> tuple[OtherIdentifier, ...]:
    """Identifiers of other systems, as sent; one that claims to be an INS is refused."""
    kept = []
    for index, identifier in enumerate(data.get("identifier", [])):
        system = identifier.get("system", "")
        if system in ALL_INS_SYSTEMS:
            continue  # the matricule INS (_ins)
        path = f"Patient.identifier[{index}]"
        if _claims_ins(identifier):
            reader.problem(
                _(
                    "This identifier presents itself as a matricule INS (by its system or its "
                    "type) without being under an INS system this installation accepts "
                    "(%(systems)s): it is neither taken as an INS nor kept."
                )
                % {"systems": ", ".join(sorted(accepted_ins_systems()))},
                f"{path}.system",
                code="code-invalid",
            )
            continue
        if not (system or identifier.get("value")):
            reader.dropped(path)
            continue
        type_system, type_code, type_display, type_text = _concept(
            reader, identifier.get("type"), f"{path}.type"
        )
        reader.leftovers(identifier, {"system", "value", "use", "type"}, path)
        kept.append(
            OtherIdentifier(
                system=reader.text(system, f"{path}.system", columns.MAX_URI),
                value=reader.text(identifier.get("value"), f"{path}.value", columns.MAX_VALUE),
                use=reader.code(identifier.get("use"), IDENTIFIER_USES, f"{path}.use"),
                type_system=type_system,
                type_code=type_code,
                type_display=type_display,
                type_text=type_text,
            )
        )
    return tuple(kept)


def _claims_ins(identifier: Json) -> bool:
    if _INS_ARC in identifier.get("system", ""):
        return True
    codings = identifier.get("type", {}).get("coding", [])
    return any(
        c.get("system") == IDENTIFIER_TYPE_SYSTEM and c.get("code") in _INS_TYPES for c in codings
    )


def _concept(reader: _Reader, concept: Json | None, path: str) -> tuple[str, str, str, str]:
    """A CodeableConcept's first coding (system, code, display) and text; the rest named."""
    if not concept:
        return "", "", "", ""
    codings: list[Json] = concept.get("coding", [])
    for index in range(1, len(codings)):
        reader.dropped(f"{path}.coding[{index}]")
    reader.leftovers(concept, {"coding", "text"}, path)
    first = codings[0] if codings else {}
    reader.leftovers(first, {"system", "code", "display"}, f"{path}.coding[0]")
    return (
        reader.text(first.get("system"), f"{path}.coding[0].system", columns.MAX_URI),
        reader.text(first.get("code"), f"{path}.coding[0].code", columns.MAX_CODE),
        reader.text(first.get("display"), f"{path}.coding[0].display", columns.MAX_LABEL),
        reader.text(concept.get("text"), f"{path}.text", columns.MAX_LABEL),
    )


def _telecoms(reader: _Reader, data: Json, phone: str, email: str) -> tuple[Telecom, ...]:
    """Every contact point, as sent; the phone and email of the identity marked main."""
    mains = {reader.paths.get("phone") if phone else None, reader.paths.get("email")}
    kept = []
    for index, point in enumerate(data.get("telecom", [])):
        path = f"Patient.telecom[{index}]"
        telecom = _contact_point(reader, point, path, main=f"{path}.value" in mains)
        if telecom is not None:
            kept.append(telecom)
    return tuple(kept)


def _contact_point(reader: _Reader, point: Json, path: str, *, main: bool) -> Telecom | None:
    if not point.get("value") or not point.get("system"):
        reader.dropped(path)
        return None
    reader.leftovers(point, {"system", "value", "use", "rank"}, path)
    return Telecom(
        system=reader.code(point["system"], TELECOM_SYSTEMS, f"{path}.system"),
        value=reader.text(point["value"], f"{path}.value", columns.MAX_VALUE),
        use=reader.code(point.get("use"), TELECOM_USES, f"{path}.use"),
        rank=point.get("rank"),
        main=main,
    )


def _contacts(reader: _Reader, data: Json) -> tuple[Contact, ...]:
    """Contact persons: relationship, name, telecoms, address, gender; the rest named."""
    kept = []
    for index, contact in enumerate(data.get("contact", [])):
        path = f"Patient.contact[{index}]"
        relationships = reader.repeats(contact, "relationship", path)
        for position in range(1, len(relationships)):
            reader.dropped(f"{path}.relationship[{position}]")
        relationship = Coded(
            *_concept(
                reader, relationships[0] if relationships else None, f"{path}.relationship[0]"
            )
        )
        name: Json = contact.get("name", {})
        reader.leftovers(name, {"family", "given"}, f"{path}.name")
        given = tuple(
            reader.text(g, f"{path}.name.given[{i}]", columns.MAX_LABEL)
            for i, g in enumerate(reader.repeats(name, "given", f"{path}.name"))
        )
        telecoms = [
            _contact_point(reader, point, f"{path}.telecom[{i}]", main=False)
            for i, point in enumerate(reader.repeats(contact, "telecom", path))
        ]
        address = contact.get("address")
        reader.leftovers(contact, {"relationship", "name", "telecom", "address", "gender"}, path)
        received = Contact(
            relationship=relationship,
            family=reader.text(name.get("family"), f"{path}.name.family", columns.MAX_LABEL),
            given=tuple(g for g in given if g),
            gender=reader.code(contact.get("gender"), GENDERS, f"{path}.gender"),
            telecoms=tuple(t for t in telecoms if t is not None),
            address=_postal_address(reader, address, f"{path}.address", main=False)
            if address
            else None,
        )
        if received != Contact():
            kept.append(received)
    return tuple(kept)


def _languages(reader: _Reader, data: Json) -> tuple[Language, ...]:
    kept = []
    for index, communication in enumerate(data.get("communication", [])):
        path = f"Patient.communication[{index}]"
        reader.leftovers(communication, {"language", "preferred"}, path)
        language = Coded(*_concept(reader, communication.get("language"), f"{path}.language"))
        kept.append(Language(language, communication.get("preferred")))
    return tuple(kept)


def _deceased(data: Json) -> tuple[bool | None, str]:
    return data.get("deceasedBoolean"), str(data.get("deceasedDateTime", ""))


def _multiple_birth(reader: _Reader, data: Json) -> tuple[bool | None, int | None]:
    order = data.get("multipleBirthInteger")
    if order is not None and not 0 < order <= MAX_BIRTH_ORDER:
        reader.problem(
            _("The birth order is a number from 1 to %(max)s.") % {"max": MAX_BIRTH_ORDER},
            "Patient.multipleBirthInteger",
        )
        order = None
    return data.get("multipleBirthBoolean"), order


def _managing_organization(reader: _Reader, data: Json) -> Structure | None:
    """One of our Organizations (a structure of the directory); another one is named, not kept."""
    reference: Json | None = data.get("managingOrganization")
    if not reference:
        return None
    path = "Patient.managingOrganization"
    match = _ORGANIZATION.search(str(reference.get("reference", "")))
    structure_id = _uuid(match["id"]) if match else None
    structure = (
        Structure.objects.filter(uuid=structure_id).first() if structure_id is not None else None
    )
    if structure is None:
        reader.dropped(
            path,
            _(
                "The managing organisation is kept only when it is an Organization of this "
                "server (Organization/id): this one is not kept."
            ),
        )
        return None
    # The display sent back is the directory's name: another one is not kept.
    reader.leftovers(reference, {"reference", "display", "type"}, path)
    _other_display(reader, reference, structure.name, path)
    return structure


def _other_display(reader: _Reader, reference: Json, ours: str, path: str) -> None:
    display = reference.get("display")
    if display and display != ours:
        reader.dropped(f"{path}.display")


def _treating_doctor(reader: _Reader, data: Json) -> Professional | None:
    """The first reference to an active doctor of the directory; any other is named, not kept.

    Who may be recorded as médecin traitant is the directory's rule (an
    active doctor); a client's other references (an Organization, another
    system's practitioner, a nurse, a second doctor) do not refuse the
    patient: they are not kept, and said so.
    """
    doctor = None
    for index, reference in enumerate(data.get("generalPractitioner", [])):
        path = f"Patient.generalPractitioner[{index}]"
        found = _doctor(str(reference.get("reference", ""))) if doctor is None else None
        if found is None:
            reader.dropped(
                path,
                _("A single médecin traitant is recorded: this reference is not kept.")
                if doctor is not None
                else _(
                    "Only an active doctor of the directory, as Practitioner/id, is recorded as "
                    "médecin traitant: this reference is not kept."
                ),
            )
            continue
        doctor = found
        reader.paths["treating_doctor"] = path
        reader.leftovers(reference, {"reference", "display", "type"}, path)
        _other_display(reader, reference, found.display_name, path)
    return doctor


def _doctor(reference: str) -> Professional | None:
    match = _PRACTITIONER.search(reference)
    practitioner_id = _uuid(match["id"]) if match else None
    if practitioner_id is None:
        return None
    return Professional.objects.filter(
        uuid=practitioner_id, active=True, profession=Profession.DOCTOR
    ).first()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _addresses(
    reader: _Reader, data: Json
) -> tuple[str, Commune | None, tuple[PostalAddress, ...]]:
    """Every address as sent, and the home one's lines and commune for the identity.

    An address we cannot place (a commune outside the territory, an
    ambiguous name, another country) is still an address: it is kept, the
    commune left empty, and the request is not refused for it. Only a French
    address is looked up among the communes: Paris, Texas is not Paris.
    """
    addresses = data.get("address", [])
    home = next(
        (i for i, a in enumerate(addresses) if a.get("use") in (None, "home", "temp")), None
    )
    kept = []
    line, commune = "", None
    for index, address in enumerate(addresses):
        path = f"Patient.address[{index}]"
        received = _postal_address(reader, address, path, main=index == home)
        kept.append(received)
        if index == home:
            reader.paths["address_line"] = f"{path}.line"
            line = reader.text(", ".join(received.lines), f"{path}.line", MAX_ADDRESS)
            commune = received.commune
    return line, commune, tuple(kept)


def _postal_address(reader: _Reader, address: Json, path: str, *, main: bool) -> PostalAddress:
    lines = [str(v).strip() for v in address.get("line", []) if str(v).strip()]
    if len(lines) > MAX_REPEATS:
        reader.problem(_("Too many elements: at most %(max)s.") % {"max": MAX_REPEATS}, path)
        lines = []
    country = reader.text(address.get("country"), f"{path}.country", columns.MAX_ADDRESS_PART)
    code_index, code = _insee_code_of(address)
    city = reader.text(address.get("city"), f"{path}.city", columns.MAX_ADDRESS_PART)
    commune = _commune(code or city) if country.lower() in _FRENCH else None
    for index in range(len(address.get("extension", []))):
        if index != code_index or commune is None or commune.insee_code != code:
            reader.dropped(f"{path}.extension[{index}]")
    handled = {"use", "type", "text", "line", "city", "district", "state", "postalCode"}
    reader.leftovers(address, handled | {"country", "extension"}, path)
    return PostalAddress(
        use=reader.code(address.get("use"), ADDRESS_USES, f"{path}.use"),
        type=reader.code(address.get("type"), ADDRESS_TYPES, f"{path}.type"),
        text=reader.text(address.get("text"), f"{path}.text", columns.MAX_ADDRESS_TEXT),
        lines=tuple(
            reader.text(v, f"{path}.line[{i}]", columns.MAX_LABEL) for i, v in enumerate(lines)
        ),
        city=city,
        district=reader.text(address.get("district"), f"{path}.district", columns.MAX_ADDRESS_PART),
        state=reader.text(address.get("state"), f"{path}.state", columns.MAX_ADDRESS_PART),
        postal_code=reader.text(
            address.get("postalCode"), f"{path}.postalCode", columns.MAX_POSTAL_CODE
        ),
        country=country,
        commune=commune,
        main=main,
    )


def _insee_code_of(address: Json) -> tuple[int | None, str]:
    for index, extension in enumerate(address.get("extension", [])):
        if extension.get("url") == INSEE_CODE_EXTENSION:
            code = str(extension.get("valueCoding", {}).get("code", "")).strip().upper()
            return index, code
    return None, ""


def _names_left(reader: _Reader, data: Json) -> None:
    """Names other than the official and usual ones, and their parts no field holds."""
    seen: set[str] = set()
    for index, name in enumerate(data.get("name", [])):
        path = f"Patient.name[{index}]"
        use = name.get("use")
        if use not in ("official", "usual") or use in seen:
            reader.dropped(path)
            continue
        seen.add(use)
        reader.leftovers(name, {"use", "family", "given"}, path)
        if use == "usual":
            for position in range(1, len(name.get("given", []))):
                reader.dropped(f"{path}.given[{position}]")


def _meta_left(reader: _Reader, data: Json) -> None:
    """The server sets versionId and lastUpdated; others' tags, labels and profiles go."""
    meta: Json = data.get("meta", {})
    reader.leftovers(meta, {"versionId", "lastUpdated", "profile"}, "Patient.meta")
    for index, profile in enumerate(meta.get("profile", [])):
        if profile != FR_CORE_PATIENT:
            reader.dropped(f"Patient.meta.profile[{index}]")


def _commune(typed: str) -> Commune | None:
    communes = list(find_communes(typed)[:2]) if typed.strip() else []
    return communes[0] if len(communes) == 1 else None
