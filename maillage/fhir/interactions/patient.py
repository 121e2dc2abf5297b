"""Patient: read, search and create, every one through the patient gate.

No Patient row is read here: ``access.get_patient`` and
``access.search_patients`` return only what the user may see and write the
audit entries (refusals included); ``actions.create_patient`` is the only
writer, and possible duplicates are shown only through
``access.review_duplicates``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from django.db.models import Q
from django.utils.translation import gettext as _

from maillage.accounts.models import Role
from maillage.audit.models import Action
from maillage.fhir.created import answer, created, not_kept_paths, updated
from maillage.fhir.mapping.patient import GENDERS, patient_resource
from maillage.fhir.mapping.patient_input import PatientInput, identity_from_fhir, patient_from_json
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.patch import parse_patch
from maillage.fhir.result import FhirResult, Json
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
    parse_search,
    period_q,
    search_term,
    searchset,
    shown,
    token,
)
from maillage.fhir.systems import ALL_INS_SYSTEMS, FR_CORE_PATIENT, accepted_ins_systems
from maillage.fhir.validation import load_json
from maillage.fhir.versions import (
    Version,
    expected_version,
    history_bundle,
    requested_version,
    stale,
)
from maillage.lib.ins import InvalidMatricule, parse_matricule
from maillage.patients import actions
from maillage.patients.details import other_identifier_holders, prefetch_details
from maillage.patients.identity import IdentityInput, matricule_message
from maillage.patients.models import Patient
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
        "The matricule INS, as system|value (the INS system of this installation) or value; "
        "another system's identifier as system|value, matched exactly.",
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
        # Another system's identifier, kept as sent (a Synthea or hospital id):
        # matched exactly, system and value, as If-None-Exist needs it.
        return Q(pk__in=other_identifier_holders(wanted.system, wanted.code))
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
    resource = patient_from_json(load_json(call.request.body))
    received = identity_from_fhir(resource)
    condition = call.request.header("if-none-exist")
    if condition.strip():
        existing = _existing(call, condition)
        if existing is not None:
            return existing
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


# --- update and patch --------------------------------------------------------
# The client changes the version it was shown: what a read never shows (the
# facts the identity status follows from, a matricule not yet transmissible)
# is kept as it is. The action decides (policy, rules, the version under the
# row's lock) and writes the one audit entry.


def update(call: Call) -> FhirResult:
    _refuse_role(call)
    expected = expected_version(call)
    body = load_json(call.request.body)
    resource = patient_from_json(body)
    if resource.id != call.resource_id:
        raise FhirError.single(
            400,
            _("The resource's id must be the id of the URL (%(id)s).") % {"id": call.resource_id},
            expression="Patient.id",
        )
    # Read before the gate: a malformed identity is refused without a look at the record.
    received = Received(body, identity_from_fhir(resource))
    return _change(call, received.against, expected, received)


def patch(call: Call) -> FhirResult:
    _refuse_role(call)
    expected = expected_version(call)
    patching = parse_patch(call.request.body, call.request.header("content-type"))
    received = Received({})

    def change(current: Patient) -> tuple[IdentityInput, Sequence[str]]:
        received.body = patching.apply(patient_resource(current), call.resource_id)
        received.identity = identity_from_fhir(patient_from_json(received.body))
        return received.against(current)

    return _change(call, change, expected, received)


def _refuse_role(call: Call) -> None:
    """A role that may never change an identity gets 403 before its body is read, audited."""
    try:
        access.require_purpose(call.actor, Action.PATIENT_UPDATE, {"fhir": "Patient"})
    except NotAllowed:
        raise FhirError(403) from None


@dataclass
class Received:
    """A Patient a client sent to replace a version, read against that version.

    What the client sends back as it was shown is no change: the details a
    page-made record would keep from it, the identity status extension we
    wrote (a warning is for what the client added, not for what we sent).
    """

    body: Json
    identity: PatientInput | None = None
    warnings: list[Issue] = field(default_factory=list)

    def against(self, current: Patient) -> tuple[IdentityInput, Sequence[str]]:
        assert self.identity is not None
        shown = patient_resource(current)
        as_shown = identity_from_fhir(patient_from_json(shown))
        self.warnings = [
            w
            for w in self.identity.warnings
            if not _sent_back(w, self.body, shown, not_kept_paths(as_shown.warnings))
        ]
        return _as_update(self.identity, as_shown, current), not_kept_paths(self.warnings)


def _sent_back(warning: Issue, body: Json, shown: Json, shown_not_kept: Sequence[str]) -> bool:
    """Whether a warned element is one we showed and the client sent back unchanged."""
    paths = list(warning.expression)
    if not paths or any(p not in shown_not_kept for p in paths):
        return False
    elements = {p.removeprefix("Patient.").split(".")[0].split("[")[0] for p in paths}
    return all(body.get(e) == shown.get(e) for e in elements)


def _as_update(received: PatientInput, as_shown: PatientInput, current: Patient) -> IdentityInput:
    """The identity the client sends, with what it was never shown kept as it is."""
    shown_matricule = current.matricule_transmissible or received.identity.ins_matricule
    details = received.identity.details
    return dataclasses.replace(
        received.identity,
        retrieved_from_insi=current.retrieved_from_insi,
        identity_document=current.identity_document,
        doubtful=current.doubtful,
        fictitious=current.fictitious,
        ins_matricule=received.identity.ins_matricule if shown_matricule else current.ins_matricule,
        ins_kind=received.identity.ins_kind if shown_matricule else current.ins_kind,
        # The details as shown, sent back: none to replace.
        details=None if details == as_shown.identity.details else details,
    )


def _change(
    call: Call, change: actions.Change, expected: int | None, received: Received
) -> FhirResult:
    """The update through the action, every refusal and failure as its status."""
    try:
        patient = actions.update_patient(
            call.actor, call.resource_id, change, expected_version=expected
        )
    except PatientNotFound:
        raise FhirError(404) from None
    except actions.StaleVersion as error:
        raise stale(error.current) from None
    except actions.InvalidIdentity as error:
        identity = received.identity
        raise FhirError(
            400,
            [
                Issue(p.message, expression=(identity.path_of(p.field),) if identity else ())
                for p in error.problems
            ],
        ) from None
    except actions.DuplicateIdentity as error:
        # A duplicate is found only once the identity was read.
        assert received.identity is not None
        raise _duplicate(call, received.identity, error) from None
    return updated(call, patient_resource(patient), received.warnings)


# Conditional create: as many criteria as a search URL would reasonably hold.
MAX_CONDITION_FIELDS = 20


def _existing(call: Call, condition: str) -> FhirResult | None:
    """If-None-Exist: the one patient its search finds through the gate, None if none.

    The search is the Patient search (same parameters, same policy, same
    audit): a patient the user may not see is not found, and creating her
    again then meets the duplicate rules. Two or more found: 412.
    """
    try:
        pairs = parse_qsl(condition.strip().lstrip("?"), max_num_fields=MAX_CONDITION_FIELDS)
    except ValueError:
        raise FhirError.single(
            400, _("If-None-Exist holds too many parameters."), expression="If-None-Exist"
        ) from None
    query = parse_search(pairs, SEARCH_PARAMS)
    if not query.names:
        raise FhirError.single(
            400,
            _("If-None-Exist must hold search parameters of Patient, e.g. identifier=…"),
            expression="If-None-Exist",
        )
    try:
        page = access.search_patients(
            call.actor,
            _criteria(query),
            limit=1,
            described_as={"parameters": query.names, "if_none_exist": True},
        )
    except NotAllowed:
        raise FhirError(403) from None
    if page.total == 0:
        return None
    if page.total > 1:
        raise FhirError.single(
            412,
            _(
                "%(count)s patients match If-None-Exist: make the criteria precise enough to "
                "name one."
            )
            % {"count": page.total},
            code="multiple-matches",
            expression="If-None-Exist",
        )
    (patient,) = page.patients
    message = _("Already exists, not created: %(reference)s.") % {
        "reference": f"Patient/{patient.uuid}"
    }
    return answer(call, patient_resource(patient), (), 200, message)


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
        Interaction.UPDATE,
        update,
        "Patient",
        profile=FR_CORE_PATIENT,
        documentation=(
            "Changes the identity (the roles and relations that may change it on the pages); "
            'If-Match: W/"<versionId>" answers 412 when it changed meanwhile. The identity '
            "status and a matricule not yet shown are kept as they are; no create by update."
        ),
    ),
    Route(
        Interaction.PATCH,
        patch,
        "Patient",
        profile=FR_CORE_PATIENT,
        documentation=(
            "A JSON Patch (application/json-patch+json) or a JSON Merge Patch "
            "(application/merge-patch+json, or application/json as fhirpy sends it) applied "
            "to the current version, then as an update."
        ),
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
            "OperationOutcome with Prefer: return=OperationOutcome). If-None-Exist (a "
            "Patient search, e.g. identifier=system|value): one patient found answers 200 with "
            "her, several 412."
        ),
        conditional=True,
    ),
)
