"""Consent: read and search, for the patient themself only.

Professionals live with the effect of consents (the record gate applies
them), never with the list: a patient's decisions, an opposition to a named
doctor among them, are theirs. The patient gate decides with the purpose
CONSENT_READ, which only the patient holds; each read is audited under it,
with ``{"fhir": "Consent"}`` in the detail. Consent rows are read only after
the gate.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from maillage.audit.models import Action
from maillage.fhir.interactions.common import PATIENT_PARAM, patients_own, searched_patient
from maillage.fhir.mapping.consent import consent_resource
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import Match, ParamType, SearchParam, page, searchset, shown, token
from maillage.fhir.systems import FR_CORE_CONSENT
from maillage.patients.models import Patient
from maillage.records.models import Consent, ConsentKind

STATUS_SYSTEM = "http://hl7.org/fhir/consent-state-codes"
STATUSES = ("active", "inactive")

SEARCH_PARAMS = (
    PATIENT_PARAM,
    SearchParam(
        "status", ParamType.TOKEN, "active (in force) or inactive (withdrawn or superseded)."
    ),
)


def _consents(patient: Patient) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(patient=patient)
        .select_related("professional", "document")
        .order_by("-recorded_at", "-pk")
    )


def _latest_sharing(patient: Patient) -> int | None:
    latest: int | None = (
        Consent.objects.filter(patient=patient, kind=ConsentKind.SHARING)
        .order_by("-recorded_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return latest


def _superseded(consent: Consent, latest_sharing: int | None) -> bool:
    return consent.kind == ConsentKind.SHARING and consent.pk != latest_sharing


def read(call: Call) -> FhirResult:
    patient = patients_own(call.actor, Action.CONSENT_READ, None, "Consent")
    try:
        wanted = uuid.UUID(call.resource_id)
    except ValueError:
        raise FhirError(404) from None
    consent = _consents(patient).filter(uuid=wanted).first()
    if consent is None:
        raise FhirError(404)
    superseded = _superseded(consent, _latest_sharing(patient))
    return FhirResult(consent_resource(consent, patient.uuid, superseded=superseded))


def search(call: Call) -> FhirResult:
    query = call.query
    wanted = _statuses(query.occurrences("status"))
    patient = patients_own(call.actor, Action.CONSENT_READ, searched_patient(query), "Consent")
    latest = _latest_sharing(patient)
    consents = [
        c
        for c in _consents(patient)
        if ("inactive" if c.withdrawn_at or _superseded(c, latest) else "active") in wanted
    ]
    shown_consents, total = page(consents, query)
    matches = [
        Match(consent_resource(c, patient.uuid, superseded=_superseded(c, latest)))
        for c in shown_consents
    ]
    return searchset(call, matches, total)


def _statuses(occurrences: tuple[tuple[str, ...], ...]) -> set[str]:
    wanted = set(STATUSES)
    for alternatives in occurrences:
        allowed = set()
        for value in alternatives:
            status = token(value)
            if status.system not in (None, STATUS_SYSTEM) or status.code not in STATUSES:
                raise FhirError.single(
                    400,
                    _("Unknown status “%(value)s”: use active or inactive.")
                    % {"value": shown(value)},
                    code="code-invalid",
                    expression="status",
                )
            allowed.add(status.code)
        wanted &= allowed
    return wanted


_DOCUMENTATION = (
    "The patient's own consents only (an API token of the patient's account); anyone else "
    "gets 403, or 404 when naming a patient, and the attempt is audited."
)

ROUTES = (
    Route(Interaction.READ, read, "Consent", profile=FR_CORE_CONSENT, documentation=_DOCUMENTATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Consent",
        SEARCH_PARAMS,
        profile=FR_CORE_CONSENT,
        documentation=_DOCUMENTATION,
    ),
)
