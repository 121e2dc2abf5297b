"""ServiceRequest: a tele-expertise question, read, searched and asked through the API.

Every request goes through ``policy.expertise``: a read is ``open_request``
(one audited entry, 404 for anyone it refuses, a stranger and an unknown id
alike); a search lists the requests the caller takes part in
(``participating``) and opens each one on the page returned the same way,
so each is decided and audited as a read. Roles that never take part in a
tele-expertise (patients, analysts...) get 403, audited.

A create is ``expertise.actions.save_draft`` then, for ``status: active``,
``submit``, in one transaction that keeps the refusals: a request that
cannot be sent (a receiver refused, a document that may not be shared)
leaves nothing behind but the audit of why. The patient's oral consent is
required to send (our extension ``oral-consent``, recorded by the caller);
the Task of the request exists with it, under the same id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest

from maillage.accounts.models import User
from maillage.audit.actions import atomic_keeping_refusals
from maillage.audit.models import Action
from maillage.directory.models import Practice, Professional
from maillage.expertise import actions
from maillage.expertise.models import Pool, Priority, Request
from maillage.fhir.created import created, not_kept
from maillage.fhir.mapping.service_request import (
    ORAL_CONSENT_EXTENSION,
    POOL_SYSTEM,
    STATUSES_OF,
    service_request,
)
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    SearchQuery,
    all_of,
    general_params,
    ids_q,
    invalid_value,
    ordering,
    page,
    period_q,
    reference_id,
    searchset,
    shown,
    token,
)
from maillage.fhir.validation import load_json, parse
from maillage.policy import expertise as policy
from maillage.policy.expertise import RequestAccess, RequestNotFound
from maillage.policy.gate import NotAllowed, PatientNotFound, require_purpose

# --- shared with Task and Communication --------------------------------------------


def require_expertise(user: User, resource_type: str) -> None:
    """403, audited, for a role that never takes part in a tele-expertise."""
    try:
        require_purpose(user, Action.EXPERTISE_READ, {"fhir": resource_type})
    except NotAllowed:
        raise FhirError(403) from None


def opened(user: User, request_id: str, resource_type: str, **detail: str) -> RequestAccess:
    """The request through the policy, its read audited; 404 for anyone it refuses."""
    try:
        return policy.open_request(user, request_id, detail={"fhir": resource_type, **detail})
    except RequestNotFound:
        raise FhirError(404) from None


def peeked(user: User, request_id: str, resource_type: str, **detail: str) -> policy.Peeked:
    """The request for a change whose action audits it; 404 (audited) for anyone refused."""
    try:
        return policy.peek_request(user, request_id, detail={"fhir": resource_type, **detail})
    except RequestNotFound:
        raise FhirError(404) from None


def reference_parts(value: str) -> tuple[str, str]:
    """(type, id) of ``Type/id`` or an absolute URL; ("", id) for a bare id."""
    parts = value.rstrip("/").split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 2 else ("", parts[-1])


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def party_q(name: str, value: str, fields: dict[str, str]) -> Q:
    """A reference parameter naming a Practitioner, PractitionerRole, Organization or CareTeam.

    ``fields`` maps each accepted type to the lookup of its id; a bare id is
    the first type's. A type not accepted is a 400; an id that cannot be
    ours matches nothing.
    """
    kind, raw = reference_parts(value)
    kind = kind or next(iter(fields))
    if kind not in fields:
        raise invalid_value(
            name, value, _("It must refer to a %(type)s.") % {"type": " or ".join(fields)}
        )
    found = _uuid(raw)
    if found is None:
        return Q(pk__in=[])
    lookup = fields[kind]
    q = Q(**{lookup: found})
    if kind in {"CareTeam", "Organization"}:
        # A pool is shown as the performer (owner) only while nobody holds it.
        q &= Q(assignee__isnull=True)
    return q


def patient_q(query: SearchQuery) -> Q:
    return all_of(query, "patient", lambda v: _patient_q("patient", v)) & all_of(
        query, "subject", lambda v: _patient_q("subject", v)
    )


def _patient_q(name: str, value: str) -> Q:
    found = reference_id(name, value, "Patient")
    return Q(patient__uuid=found) if found is not None else Q(pk__in=[])


REQUEST_STATUS_SYSTEM = "http://hl7.org/fhir/request-status"


def status_q(query: SearchQuery, statuses: Mapping[str, tuple[str, ...]], system: str) -> Q:
    """``status`` as codes (of ``system`` if one is named; several separated by commas)."""

    def one(value: str) -> Q:
        wanted = token(value)
        code = wanted.code
        if wanted.system not in (None, system) or code not in statuses:
            raise invalid_value(
                "status",
                value,
                _("Accepted: %(codes)s.") % {"codes": ", ".join(statuses)},
            )
        return Q(status__in=statuses[code])

    return all_of(query, "status", one)


REQUESTER_FIELDS = {
    "Practitioner": "requester_professional__uuid",
    "PractitionerRole": "requester_professional__practices__uuid",
}
PERFORMER_FIELDS = {
    "Practitioner": "assignee__uuid",
    "PractitionerRole": "assignee__practices__uuid",
    "CareTeam": "pool__uuid",
    "Organization": "pool__structure__uuid",
}
SORT_FIELDS = {"_lastUpdated": ("updated_at",), "_id": ("uuid",), "authored": ("submitted_at",)}


def searched_requests(
    call: Call,
    criteria: Q,
    resource_type: str,
    sort_fields: Mapping[str, tuple[str, ...]] = SORT_FIELDS,
) -> tuple[list[RequestAccess], int]:
    """One page of the caller's requests matching ``criteria``, each opened (audited)."""
    query = call.query
    require_expertise(call.actor, resource_type)
    rows: QuerySet[Request] = (
        policy.participating(call.actor)
        .filter(criteria)
        .distinct()
        .order_by(*ordering(query, sort_fields, ("-updated_at", "-pk")))
    )
    found, total = page(rows.only("uuid"), query)
    accesses = []
    for row in found:
        try:
            accesses.append(
                policy.open_request(
                    call.actor, row.uuid, detail={"fhir": resource_type, "search": True}
                )
            )
        except RequestNotFound:
            # Decided again: a participant the policy now refuses (an opposition) is left out.
            total -= 1
    return accesses, total


# --- read and search -------------------------------------------------------------


def read(call: Call) -> FhirResult:
    require_expertise(call.actor, "ServiceRequest")
    access = opened(call.actor, call.resource_id, "ServiceRequest")
    return FhirResult(service_request(access.request, access.documents(), access.readings()))


SEARCH_PARAMS = (
    SearchParam("patient", ParamType.REFERENCE, "The patient, as Patient/id or id."),
    SearchParam("subject", ParamType.REFERENCE, "The patient, as Patient/id (as patient)."),
    SearchParam(
        "requester",
        ParamType.REFERENCE,
        "Who asked, as Practitioner/id or PractitionerRole/id.",
    ),
    SearchParam(
        "performer",
        ParamType.REFERENCE,
        "Who is asked: Practitioner/id (the specialist holding it), PractitionerRole/id, "
        "CareTeam/<pool id> or Organization/<team's structure id> (a pool nobody took yet).",
    ),
    SearchParam(
        "status",
        ParamType.TOKEN,
        "draft, active (waiting, taken or on hold), completed (concluded) or revoked (cancelled).",
    ),
    SearchParam(
        "authored",
        ParamType.DATE,
        "When it was sent: YYYY, YYYY-MM, YYYY-MM-DD or a dateTime, with a prefix.",
    ),
    *general_params(
        sort=tuple(SORT_FIELDS),
        include=(
            "ServiceRequest:patient",
            "ServiceRequest:subject",
            "ServiceRequest:requester",
            "ServiceRequest:performer",
        ),
        revinclude=("Task:focus",),
    ),
)


def search(call: Call) -> FhirResult:
    query = call.query
    # Checked before the policy: a bad value is the client's mistake, not an access.
    criteria = (
        patient_q(query)
        & all_of(query, "requester", lambda v: party_q("requester", v, REQUESTER_FIELDS))
        & all_of(query, "performer", lambda v: party_q("performer", v, PERFORMER_FIELDS))
        & status_q(query, STATUSES_OF, REQUEST_STATUS_SYSTEM)
        & period_q(query, "authored", "submitted_at")
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    )
    accesses, total = searched_requests(call, criteria, "ServiceRequest")
    matches = [Match(service_request(a.request, a.documents(), a.readings())) for a in accesses]
    return searchset(call, matches, total)


# --- create ----------------------------------------------------------------------

KNOWN_ELEMENTS = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "status",
        "intent",
        "code",
        "subject",
        "requester",
        "performer",
        "priority",
        "note",
        "reasonCode",
        "supportingInfo",
        "extension",
        "authoredOn",
    }
)
# Where each field of the action's refusals is in the resource.
PATHS = {
    "question": "ServiceRequest.note",
    "pool": "ServiceRequest.performer",
    "specialist": "ServiceRequest.performer",
    "priority": "ServiceRequest.priority",
    "documents": "ServiceRequest.supportingInfo",
    "readings": "ServiceRequest.supportingInfo",
    "consent": "ServiceRequest.extension",
}


@dataclass
class Asked:
    """A ServiceRequest read as the action's ``Ask``."""

    patient_id: uuid.UUID
    ask: actions.Ask
    send: bool
    warnings: list[Issue] = field(default_factory=list)


def _invalid(message: str, path: str) -> FhirError:
    return FhirError.single(422, message, code="business-rule", expression=path)


def _reference_of(ref: Reference | None, path: str) -> tuple[str, uuid.UUID]:
    """(type, id) of a literal reference of ours; a 422 for anything else."""
    kind, raw = reference_parts(ref.reference or "") if ref is not None else ("", "")
    found = _uuid(raw)
    if found is None:
        raise _invalid(_("This reference names nothing on this server."), path)
    return kind, found


def _patient(resource: ServiceRequest) -> uuid.UUID:
    kind, found = _reference_of(resource.subject, "ServiceRequest.subject")
    if kind != "Patient":
        raise _invalid(
            _("The subject must be a Patient of this server (Patient/id)."),
            "ServiceRequest.subject",
        )
    return found


def _check_requester(resource: ServiceRequest, me: Professional) -> None:
    if resource.requester is None:
        return
    kind, found = _reference_of(resource.requester, "ServiceRequest.requester")
    mine = (kind == "Practitioner" and found == me.uuid) or (
        kind == "PractitionerRole" and Practice.objects.filter(uuid=found, professional=me).exists()
    )
    if not mine:
        raise _invalid(
            _("The requester must be you (your Practitioner or one of your PractitionerRoles)."),
            "ServiceRequest.requester",
        )


def _target(resource: ServiceRequest) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(pool id, specialist id) the performer names; the action checks they answer."""
    performers = resource.performer or []
    path = "ServiceRequest.performer"
    if len(performers) > 1:
        raise _invalid(_("Ask one specialist or one pool: give one performer."), path)
    if not performers:
        return None, None
    performer = performers[0]
    identifier = performer.identifier
    if identifier is not None and identifier.system == POOL_SYSTEM and not performer.reference:
        return _uuid(identifier.value or "") or uuid.UUID(int=0), None
    kind, found = _reference_of(performer, path)
    if kind == "Practitioner":
        return None, found
    if kind == "PractitionerRole":
        professional = (
            Practice.objects.filter(uuid=found).values_list("professional__uuid", flat=True).first()
        )
        return None, professional or uuid.UUID(int=0)
    if kind == "CareTeam":
        return found, None
    if kind == "Organization":
        pools = list(Pool.objects.filter(structure__uuid=found, active=True).values_list("uuid"))
        if len(pools) != 1:
            raise _invalid(
                _(
                    "This organization has no tele-expertise team, or several: name the pool as "
                    "a CareTeam (identifier system %(system)s)."
                )
                % {"system": POOL_SYSTEM},
                path,
            )
        return pools[0][0], None
    raise _invalid(
        _("The performer must be a Practitioner, a PractitionerRole, an Organization or a pool."),
        path,
    )


def _priority(resource: ServiceRequest) -> str:
    """Our priority for the FHIR code (rows of data); stat is the most urgent one we have."""
    code = resource.priority
    if not code:
        return ""
    priorities = list(Priority.objects.order_by("hours"))
    chosen = next((p for p in priorities if p.fhir_code == code), None)
    if chosen is None and code == "stat" and priorities:
        chosen = priorities[0]
    if chosen is None:
        raise _invalid(
            _("Unknown priority “%(code)s”: use %(codes)s.")
            % {"code": shown(code), "codes": ", ".join(p.fhir_code for p in priorities)},
            "ServiceRequest.priority",
        )
    return chosen.code


def _question(resource: ServiceRequest) -> str:
    notes = [n.text.strip() for n in resource.note or [] if n.text and n.text.strip()]
    if notes:
        return "\n\n".join(notes)
    reasons = [
        r.text or next((c.display for c in r.coding or [] if c.display), "")
        for r in resource.reasonCode or []
    ]
    return "\n\n".join(r.strip() for r in reasons if r and r.strip())


def _supporting(resource: ServiceRequest) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The record documents and the readings shared with the question, by public id."""
    documents, readings = [], []
    for index, info in enumerate(resource.supportingInfo or []):
        path = f"ServiceRequest.supportingInfo[{index}]"
        kind, found = _reference_of(info, path)
        if kind == "DocumentReference":
            documents.append(found)
        elif kind == "Observation":
            readings.append(found)
        else:
            raise _invalid(
                _(
                    "Share documents of the record as DocumentReference/id "
                    "and readings as Observation/id."
                ),
                path,
            )
    return documents, readings


def _consent(
    resource: ServiceRequest, me: Professional, warnings: list[Issue]
) -> dt.datetime | None:
    """When the patient's oral consent was recorded, by the caller, at a past time; None if not."""
    consent = None
    for index, extension in enumerate(resource.extension or []):
        path = f"ServiceRequest.extension[{index}]"
        if extension.url != ORAL_CONSENT_EXTENSION:
            warnings.append(not_kept(path))
            continue
        parts = {e.url: e for e in extension.extension or []}
        recorder = parts.get("recorder")
        time = parts.get("time")
        given = recorder.valueReference if recorder is not None else None
        if given is None or _reference_of(given, f"{path}.recorder") != (
            "Practitioner",
            me.uuid,
        ):
            raise _invalid(
                _("The consent's recorder must be you (your Practitioner)."), f"{path}.recorder"
            )
        when = time.valueDateTime if time is not None else None
        if not isinstance(when, dt.datetime) or when > timezone.now() + dt.timedelta(minutes=5):
            raise _invalid(
                _("Give the time the consent was given (a past dateTime with its zone)."),
                f"{path}.time",
            )
        consent = when
    return consent


def asked_from_fhir(resource: ServiceRequest, me: Professional, body: dict[str, object]) -> Asked:
    if resource.status not in {"draft", "active"}:
        raise _invalid(
            _("A request is created as draft (kept) or active (sent)."), "ServiceRequest.status"
        )
    _check_requester(resource, me)
    warnings = [not_kept(f"ServiceRequest.{name}") for name in body if name not in KNOWN_ELEMENTS]
    pool, specialist = _target(resource)
    consent = _consent(resource, me, warnings)
    send = resource.status == "active"
    if send and consent is None:
        raise _invalid(
            _(
                "The patient's consent to the tele-expertise is required: record it in the "
                "extension %(url)s (recorder and time)."
            )
            % {"url": ORAL_CONSENT_EXTENSION},
            "ServiceRequest.extension",
        )
    documents, readings = _supporting(resource)
    ask = actions.Ask(
        question=_question(resource),
        priority=_priority(resource),
        pool_uuid=pool,
        specialist_uuid=specialist,
        document_uuids=documents,
        reading_uuids=readings,
        consent=consent is not None,
        consent_at=consent,
    )
    return Asked(_patient(resource), ask, send, warnings)


def rule_broken(error: actions.ExpertiseRuleBroken, paths: dict[str, str]) -> FhirError:
    """A refusal the caller can fix: 422 at the element it is about; 409 for a state."""
    if error.field:
        path = paths.get(error.field, "")
        return FhirError.single(422, error.message, code="business-rule", expression=path)
    return FhirError.single(409, error.message, code="conflict")


def create(call: Call) -> FhirResult:
    user = call.actor
    try:
        require_purpose(user, Action.EXPERTISE_ASK, {"fhir": "ServiceRequest"})
        me = actions.requester_entry(user)
    except NotAllowed:
        raise FhirError(403) from None
    except actions.ExpertiseRuleBroken as error:
        raise FhirError.single(403, error.message, code="forbidden") from None
    body = load_json(call.request.body)
    asked = asked_from_fhir(parse(ServiceRequest, body), me, body)
    request = _ask(user, asked)
    resource = service_request(request, list(request.documents.all()), list(request.readings.all()))
    location = f"{call.request.base_url}/ServiceRequest/{request.uuid}"
    return created(call, resource, asked.warnings, location)


def _ask(user: User, asked: Asked) -> Request:
    """Save, then send: all or nothing, the refusals kept in the audit trail."""
    try:
        with atomic_keeping_refusals():
            request = actions.save_draft(user, asked.patient_id, asked.ask)
            if asked.send:
                request = actions.submit(user, request.uuid)
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not ask a tele-expertise about her."),
            code="not-found",
            expression="ServiceRequest.subject",
        ) from None
    except actions.ExpertiseRuleBroken as error:
        raise rule_broken(error, PATHS) from None
    return request


_DOCUMENTATION = (
    "A tele-expertise question. Read and searched by its participants (the requester, the "
    "specialist, the pool's members before one takes it); each read audited. Created by a "
    "requesting professional: status draft (kept) or active (sent, with the patient's oral "
    f"consent in the extension {ORAL_CONSENT_EXTENSION}); performer a Practitioner, a "
    "PractitionerRole, an Organization (its team) or a pool (CareTeam, identifier system "
    f"{POOL_SYSTEM}); the question in note; supportingInfo DocumentReferences and "
    "Observations of the record. Its Task (same id) carries the workflow."
)

ROUTES = (
    Route(Interaction.READ, read, "ServiceRequest", documentation=_DOCUMENTATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "ServiceRequest",
        SEARCH_PARAMS,
        documentation=_DOCUMENTATION,
    ),
    Route(Interaction.CREATE, create, "ServiceRequest", documentation=_DOCUMENTATION),
)
