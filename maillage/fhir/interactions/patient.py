"""Patient: read, search and create, every one through the patient gate.

No Patient row is read here: ``access.get_patient`` and
``access.search_patients`` return only what the user may see and write the
audit entries (refusals included); ``actions.create_patient`` is the only
writer, and possible duplicates are shown only through
``access.review_duplicates``.
"""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.patient import Patient as FhirPatient

from maillage.accounts.models import Role
from maillage.audit.models import Action
from maillage.fhir.created import created, not_kept_paths
from maillage.fhir.mapping.patient import GENDERS, patient_resource
from maillage.fhir.mapping.patient_input import PatientInput, identity_from_fhir
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    SearchQuery,
    all_of,
    date_q,
    general_params,
    ids_q,
    invalid_value,
    ordering,
    period_q,
    search_term,
    searchset,
    shown,
    token,
)
from maillage.fhir.systems import ALL_INS_SYSTEMS, FR_CORE_PATIENT, accepted_ins_systems
from maillage.fhir.validation import load_json, parse
from maillage.fhir.versions import Version, history_bundle, requested_version
from maillage.lib.ins import InvalidMatricule, parse_matricule
from maillage.patients import actions
from maillage.patients.details import prefetch_details
from maillage.patients.identity import matricule_message
from maillage.patients.queries import identity_version, identity_versions
from maillage.patients.versions import as_it_was
from maillage.policy import gate as access
from maillage.policy.gate import NotAllowed, PatientAccess, PatientNotFound

GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
GENDER_CODES = ("male", "female", "other", "unknown")

SEARCH_PARAMS = (
    SearchParam(
        "identifier",
        ParamType.TOKEN,
        "The matricule INS, as system|value (the INS system of this installation) or value.",
    ),
    SearchParam(
        "family",
        ParamType.STRING,
        "Start of the birth name or of the used name; case and accents ignored.",
    ),
    SearchParam(
        "given", ParamType.STRING, "Start of a birth given name or of the used given name."
    ),
    SearchParam(
        "birthdate",
        ParamType.DATE,
        "Birth date: YYYY, YYYY-MM or YYYY-MM-DD, with prefix eq, ne, lt, le, gt or ge.",
    ),
    SearchParam(
        "name",
        ParamType.STRING,
        "Start of any part of the name: birth or used name, a birth given name or the used "
        "given name; case and accents ignored.",
    ),
    SearchParam(
        "gender",
        ParamType.TOKEN,
        f"male, female, other or unknown ({GENDER_SYSTEM}).",
    ),
    SearchParam(
        "general-practitioner",
        ParamType.REFERENCE,
        "The médecin traitant, as Practitioner/id or PractitionerRole/id.",
    ),
    *general_params(
        sort=("family", "given", "birthdate", "_lastUpdated", "_id"),
        include=("Patient:general-practitioner",),
        revinclude=("DocumentReference:subject", "DocumentReference:patient"),
    ),
)

SORT_FIELDS = {
    "family": ("birth_name",),
    "given": ("first_birth_given_name",),
    "birthdate": ("birth_date",),
    "_lastUpdated": ("updated_at",),
    "_id": ("uuid",),
}


def read(call: Call) -> FhirResult:
    try:
        patient = access.get_patient(call.actor, call.resource_id, Action.PATIENT_READ)
    except PatientNotFound:
        raise FhirError(404) from None
    return FhirResult(patient_resource(patient))


# --- vread and history -----------------------------------------------------
# Each change of an identity makes a version (maillage.patients.actions); the
# earlier ones are read through the same gate, and audited, as the current one.


def _opened(call: Call, detail: dict[str, object]) -> PatientAccess:
    try:
        return access.open_patient(call.actor, call.resource_id, Action.PATIENT_READ, detail=detail)
    except PatientNotFound:
        raise FhirError(404) from None


def vread(call: Call) -> FhirResult:
    wanted = requested_version(call)
    opened = _opened(call, {"fhir": "vread", "version": wanted})
    patient = opened.patient
    if wanted == patient.version:
        return FhirResult(patient_resource(patient))
    earlier = identity_version(opened, wanted) if wanted < patient.version else None
    if earlier is None:
        raise FhirError.single(404, _("This version does not exist."), code="not-found")
    return FhirResult(patient_resource(*as_it_was(earlier, patient)))


def history(call: Call) -> FhirResult:
    opened = _opened(call, {"fhir": "history"})
    patient = opened.patient
    versions = [Version(patient_resource(patient), created=patient.version == 1)]
    versions += [
        Version(patient_resource(*as_it_was(earlier, patient)), created=earlier.version == 1)
        for earlier in identity_versions(opened)
    ]
    return history_bundle(call, versions)


def search(call: Call) -> FhirResult:
    query = call.query
    criteria = _criteria(query)
    # Names only: the values typed may themselves identify someone.
    described_as = {"parameters": query.names}
    try:
        if call.actor.role == Role.PATIENT:
            # Her app finds her, and only her, through the policy.
            page = access.search_own_identity(
                call.actor,
                criteria,
                offset=query.offset,
                limit=query.count,
                described_as=described_as,
            )
        else:
            page = access.search_patients(
                call.actor,
                criteria,
                offset=query.offset,
                limit=query.count,
                described_as=described_as,
                order_by=ordering(query, SORT_FIELDS, ()),
            )
    except NotAllowed:
        raise FhirError(403) from None
    prefetch_details(page.patients)
    return searchset(call, [Match(patient_resource(p)) for p in page.patients], page.total)


def _criteria(query: SearchQuery) -> Q:
    return (
        all_of(query, "identifier", _identifier_q)
        & all_of(query, "family", _family_q)
        & all_of(query, "given", _given_q)
        & all_of(query, "name", _name_q)
        & all_of(query, "gender", _gender_q)
        & all_of(query, "general-practitioner", _general_practitioner_q)
        & all_of(query, "birthdate", lambda value: date_q("birthdate", value, "birth_date"))
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    )


def _identifier_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system in ALL_INS_SYSTEMS and wanted.system not in accepted_ins_systems():
        raise FhirError.single(
            400,
            _(
                "This INS identifier system is not used by this installation: search with "
                "%(systems)s."
            )
            % {"systems": ", ".join(sorted(accepted_ins_systems()))},
            code="code-invalid",
        )
    if wanted.system is not None and wanted.system not in ALL_INS_SYSTEMS:
        # Only the matricule INS is an identifier of ours: another system matches nothing.
        return Q(pk__in=[])
    try:
        matricule = parse_matricule(wanted.code)
    except InvalidMatricule as error:
        raise FhirError.single(400, matricule_message(error.problem)) from None
    q = Q(ins_matricule=matricule.value)
    ins = accepted_ins_systems().get(wanted.system or "")
    if ins is not None and len(accepted_ins_systems()) > 1:
        # In production the system says NIR or NIA; the test and demo systems do not.
        q &= Q(ins_kind=ins.kind)
    return q


def _family_q(value: str, name: str = "family") -> Q:
    # The match key starts with the normalised birth name (maillage.lib.names).
    term = search_term(name, value)
    return Q(match_key__startswith=term) | Q(used_name__istartswith=value.strip())


def _name_q(value: str) -> Q:
    return _family_q(value, "name") | _given_q(value, "name")


def _gender_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, GENDER_SYSTEM) or wanted.code not in GENDER_CODES:
        raise FhirError.single(
            400,
            _("Unknown gender “%(value)s”: use male, female, other or unknown.")
            % {"value": shown(value)},
            code="code-invalid",
            expression="gender",
        )
    sex = {fhir: ours for ours, fhir in GENDERS.items()}.get(wanted.code)
    if sex is not None:
        return Q(sex=sex)
    # As the mapper says: a sex of ours without a FHIR gender is "unknown".
    return ~Q(sex__in=list(GENDERS)) if wanted.code == "unknown" else Q(pk__in=[])


def _general_practitioner_q(value: str) -> Q:
    parts = value.rstrip("/").split("/")
    kind = parts[-2] if len(parts) >= 2 else "Practitioner"
    if kind not in {"Practitioner", "PractitionerRole"}:
        raise invalid_value(
            "general-practitioner",
            value,
            _("It must refer to a Practitioner or a PractitionerRole."),
        )
    try:
        wanted = uuid.UUID(parts[-1])
    except ValueError:
        return Q(pk__in=[])
    if kind == "Practitioner":
        return Q(treating_doctor__uuid=wanted)
    return Q(treating_doctor__practices__uuid=wanted)


def _given_q(value: str, name: str = "given") -> Q:
    term = search_term(name, value)
    q = Q(birth_given_names__istartswith=value.strip())
    q |= Q(birth_given_names__icontains=f" {value.strip()}")
    q |= Q(used_given_name__istartswith=value.strip())
    if not term[0].isdigit():
        # The match key's middle part is the normalised first birth given name,
        # accents removed; its last part is the birth date, hence the digit test.
        q |= Q(match_key__contains=f"|{term}")
    return q


def create(call: Call) -> FhirResult:
    user = call.actor
    try:
        # Refuse the role before reading the body, and audit the refusal.
        access.require_can_create(user)
    except NotAllowed:
        raise FhirError(403) from None
    resource = parse(FhirPatient, load_json(call.request.body))
    received = identity_from_fhir(resource)
    try:
        patient = actions.create_patient(
            user, received.identity, not_kept=not_kept_paths(received.warnings)
        )
    except NotAllowed:
        raise FhirError(403) from None
    except actions.InvalidIdentity as error:
        raise FhirError(
            400,
            [Issue(p.message, expression=(received.path_of(p.field),)) for p in error.problems],
        ) from None
    except actions.DuplicateIdentity as error:
        raise _duplicate(call, received, error) from None
    location = f"{call.request.base_url}/Patient/{patient.uuid}"
    return created(call, patient_resource(patient), received.warnings, location)


def _duplicate(call: Call, received: PatientInput, error: actions.DuplicateIdentity) -> FhirError:
    if error.same_matricule:
        message = _("Another patient already has this matricule INS.")
    else:
        message = _(
            "A patient with the same birth name, first birth given name and birth date "
            "already exists: check whether this is the same person."
        )
    issues = [
        Issue(
            message,
            code="duplicate",
            expression=(received.path_of("ins_matricule"),) if error.same_matricule else (),
        )
    ]
    shown = access.review_duplicates(call.actor, error.candidates, received.identity.evidence())
    issues += [
        Issue(
            _("Possible duplicate: %(reference)s.") % {"reference": f"Patient/{p.uuid}"},
            code="duplicate",
            severity="information",
        )
        for p in shown
    ]
    return FhirError(409, issues)


ROUTES = (
    Route(Interaction.READ, read, "Patient", profile=FR_CORE_PATIENT),
    Route(
        Interaction.VREAD,
        vread,
        "Patient",
        profile=FR_CORE_PATIENT,
        documentation="Each change of the identity is a version; read like the current one.",
    ),
    Route(
        Interaction.HISTORY_INSTANCE,
        history,
        "Patient",
        profile=FR_CORE_PATIENT,
        documentation="Every version of the identity, newest first; audited as a read.",
    ),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Patient",
        SEARCH_PARAMS,
        profile=FR_CORE_PATIENT,
        documentation="Only the patients the user may see are listed; each is audited.",
    ),
    Route(
        Interaction.CREATE,
        create,
        "Patient",
        profile=FR_CORE_PATIENT,
        documentation=(
            "Creates an identity (status PROV) followed by the user's structures; "
            "the INS identifier must use this installation's system. Identifiers of other "
            "systems, addresses, telecoms, contacts and the other elements of Patient are "
            "kept as sent; what is not kept is named in warnings (a Warning header, or the "
            "OperationOutcome with Prefer: return=OperationOutcome)."
        ),
    ),
)
