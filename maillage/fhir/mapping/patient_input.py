"""A received FHIR Patient to the identity input the patients app checks and stores.

Only what an identity holds is read: the official name (birth name and
birth given names), the usual name, gender, birth date, birth place (INSEE
code), the INS identifier of this installation's environment, phone, email,
the médecin traitant and the home address. The identity status is never
taken from the client: it follows from facts recorded here (INSi call,
document checked), so a new identity starts provisional.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from fhir.resources.R4B.patient import Patient as FhirPatient

from maillage.directory.models import Professional
from maillage.directory.terminology import Profession
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.systems import (
    ALL_INS_SYSTEMS,
    BIRTH_PLACE_EXTENSION,
    INSEE_CODE_EXTENSION,
    accepted_ins_systems,
    ins_environment,
)
from maillage.lib.ins import InvalidMatricule
from maillage.patients.identity import IdentityInput, clean_matricule, matricule_message
from maillage.territory.models import Commune
from maillage.territory.queries import find_communes

SEXES = {"male": "M", "female": "F"}
_PRACTITIONER = re.compile(r"(?:^|/)Practitioner/(?P<id>[0-9A-Fa-f-]{32,36})$")
# Column sizes of maillage.patients.models.Patient: longer text is refused
# here with a message rather than by the database with an error.
MAX_NAME, MAX_GIVEN_NAMES, MAX_PHONE, MAX_ADDRESS, MAX_EMAIL = 100, 200, 20, 200, 254


@dataclass
class PatientInput:
    identity: IdentityInput
    # IdentityInput field -> FHIRPath of the element it came from, so that a
    # rule broken later (maillage.patients.identity) points at the client's element.
    paths: dict[str, str] = field(default_factory=dict)

    def path_of(self, field_name: str) -> str:
        return self.paths.get(field_name, "Patient")


@dataclass
class _Reader:
    """Collects every problem of a Patient before answering, not just the first."""

    issues: list[Issue] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)

    def problem(self, message: str, path: str, code: str = "invalid") -> None:
        self.issues.append(Issue(message, code=code, expression=(path,)))

    def text(self, value: Any, path: str, max_length: int) -> str:
        text = (value or "").strip() if isinstance(value, str) else ""
        if len(text) > max_length:
            self.problem(
                _("This text is too long: at most %(max)s characters.") % {"max": max_length},
                path,
            )
        return text


def identity_from_fhir(resource: FhirPatient) -> PatientInput:
    reader = _Reader()
    names = _official_name(reader, resource)
    used_name, used_given = _usual_name(reader, resource)
    sex = _sex(reader, resource)
    birth_date = _birth_date(reader, resource)
    birthplace = _birthplace(reader, resource)
    matricule, kind = _ins(reader, resource)
    phone, email = _telecom(reader, resource)
    doctor = _treating_doctor(reader, resource)
    line, commune = _address(reader, resource)
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
    )
    return PatientInput(identity, reader.paths)


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


def _birthplace(reader: _Reader, resource: FhirPatient) -> str:
    places = [i for i, e in enumerate(resource.extension or []) if e.url == BIRTH_PLACE_EXTENSION]
    if not places:
        return ""
    index = places[0]
    path = f"Patient.extension[{index}]"
    reader.paths["birthplace_code"] = path
    if len(places) > 1:
        reader.problem(_("Give only one place of birth."), "Patient.extension")
    address = (resource.extension or [])[index].valueAddress
    code = _insee_code(address)
    if not code:
        reader.problem(
            _(
                "The place of birth needs its INSEE code: a valueAddress with the extension "
                "fr-core-address-insee-code (99 and the country code if born abroad)."
            ),
            path,
            code="required",
        )
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


def _treating_doctor(reader: _Reader, resource: FhirPatient) -> Professional | None:
    references = resource.generalPractitioner or []
    if not references:
        return None
    reader.paths["treating_doctor"] = "Patient.generalPractitioner[0]"
    if len(references) > 1:
        reader.problem(_("Give only one médecin traitant."), "Patient.generalPractitioner")
    path = "Patient.generalPractitioner[0].reference"
    match = _PRACTITIONER.search(references[0].reference or "")
    practitioner_id = _uuid(match["id"]) if match else None
    if practitioner_id is None:
        reader.problem(
            _(
                "The médecin traitant must be a reference to a Practitioner of the directory "
                "(Practitioner/id)."
            ),
            path,
        )
        return None
    doctor = Professional.objects.filter(
        uuid=practitioner_id, active=True, profession=Profession.DOCTOR
    ).first()
    if doctor is None:
        reader.problem(_("No active doctor of the directory has this id."), path, code="not-found")
    return doctor


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _address(reader: _Reader, resource: FhirPatient) -> tuple[str, Commune | None]:
    """The home address: its lines, and its commune when we can tell which one.

    An address we cannot place (a commune outside the territory, an
    ambiguous name) is still an address: the line is kept, the commune left
    empty, and the request is not refused for it.
    """
    candidates = [
        (i, a) for i, a in enumerate(resource.address or []) if a.use in (None, "home", "temp")
    ]
    if not candidates:
        return "", None
    index, address = candidates[0]
    path = f"Patient.address[{index}]"
    reader.paths["address_line"] = f"{path}.line"
    lines = [line.strip() for line in address.line or [] if isinstance(line, str) and line.strip()]
    line = reader.text(", ".join(lines), f"{path}.line", MAX_ADDRESS)
    return line, _commune(_insee_code(address) or (address.city or ""))


def _commune(typed: str) -> Commune | None:
    communes = list(find_communes(typed)[:2]) if typed.strip() else []
    return communes[0] if len(communes) == 1 else None
