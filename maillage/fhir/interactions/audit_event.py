"""AuditEvent: the patient's own access trail, read and searched by the patient only.

The same trail as the "accesses to my record" page, through the same gate:
``patients.access.get_patient`` with ACCESS_LOG_READ, which only the patient
passes (and which is audited in turn). Entries are read only after it, and
only the patient's own: an entry of someone else is "not found".
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from maillage.audit.models import Action, AuditEntry
from maillage.directory.models import Professional
from maillage.fhir.interactions.common import PATIENT_PARAM, patients_own, searched_patient
from maillage.fhir.mapping.audit_event import Actors, audit_event
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    all_of,
    date_q,
    general_params,
    ordering,
    page,
    period_q,
    searchset,
)
from maillage.patients.models import Patient

SEARCH_PARAMS = (
    PATIENT_PARAM,
    SearchParam(
        "date",
        ParamType.DATE,
        "Day of the event: YYYY, YYYY-MM or YYYY-MM-DD, with prefix eq, ne, lt, le, gt or ge.",
    ),
    # An entry never changes: its last update is when it was written.
    *general_params(sort=("date", "_lastUpdated", "_id")),
)

SORT_FIELDS = {"date": ("at",), "_lastUpdated": ("at",), "_id": ("seq",)}


def _entries(patient: Patient) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(patient=patient).order_by("-seq")


def _seq(value: str) -> int | None:
    """An AuditEvent id is its entry's sequence number: ASCII digits ("²" is a digit too)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _seq_q(value: str) -> Q:
    seq = _seq(value)
    return Q(seq=seq) if seq is not None else Q(pk__in=[])


def _actors(patient: Patient, entries: list[AuditEntry]) -> Actors:
    users = {e.actor_id for e in entries if e.actor_id is not None}
    practitioners = dict(
        Professional.objects.filter(user_id__in=users).values_list("user_id", "uuid")
    )
    return Actors(patient.uuid, patient.user_id, practitioners)


def read(call: Call) -> FhirResult:
    patient = patients_own(call.actor, Action.ACCESS_LOG_READ, None, "AuditEvent")
    seq = _seq(call.resource_id)
    if seq is None:
        raise FhirError(404)
    entry = _entries(patient).filter(seq=seq).first()
    if entry is None:
        raise FhirError(404)
    return FhirResult(audit_event(entry, _actors(patient, [entry])))


def search(call: Call) -> FhirResult:
    query = call.query
    # Checked before the gate: a bad date is the client's mistake, not an access.
    dates: Q = (
        all_of(query, "date", lambda value: date_q("date", value, "at__date"))
        & all_of(query, "_id", _seq_q)
        & period_q(query, "_lastUpdated", "at")
    )
    patient = patients_own(
        call.actor, Action.ACCESS_LOG_READ, searched_patient(query), "AuditEvent"
    )
    rows = _entries(patient).filter(dates).order_by(*ordering(query, SORT_FIELDS, ("-seq",)))
    entries, total = page(rows, query)
    actors = _actors(patient, entries)
    return searchset(call, [Match(audit_event(e, actors)) for e in entries], total)


_DOCUMENTATION = (
    "The patient's own access trail only (an API token of the patient's account), newest "
    "first; anyone else gets 403, or 404 when naming a patient, and the attempt is audited. "
    "Mapped after IHE BALP; break-the-glass accesses carry the purpose ETREAT and their reason."
)

ROUTES = (
    Route(Interaction.READ, read, "AuditEvent", documentation=_DOCUMENTATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "AuditEvent",
        SEARCH_PARAMS,
        documentation=_DOCUMENTATION,
    ),
)
