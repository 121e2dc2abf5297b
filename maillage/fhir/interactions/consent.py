"""Consent: read and search, for the patient themself only.

Professionals live with the effect of consents (the policy applies them),
never with the list: a patient's decisions, an opposition to a named doctor
among them, are theirs. The policy opens the record with the purpose
CONSENT_READ, which only the patient holds, exactly as the patient's page
does; each read is audited under it, with ``{"fhir": "Consent"}`` in the
detail, and the rows come from the policy (``consents_of``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from maillage.audit.models import Action
from maillage.fhir.interactions.common import PATIENT_PARAM, records_own, searched_patient
from maillage.fhir.mapping.consent import consent_resource
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    general_params,
    id_test,
    page,
    period_test,
    searchset,
    shown,
    sorted_rows,
    token,
)
from maillage.fhir.systems import FR_CORE_CONSENT
from maillage.policy.consents import superseded
from maillage.policy.gate import consents_of
from maillage.records.models import Consent

STATUS_SYSTEM = "http://hl7.org/fhir/consent-state-codes"
STATUSES = ("active", "inactive")

SEARCH_PARAMS = (
    PATIENT_PARAM,
    SearchParam(
        "status", ParamType.TOKEN, "active (in force) or inactive (withdrawn or superseded)."
    ),
    *general_params(sort=("date", "_lastUpdated", "_id")),
)

SORT_KEYS: dict[str, Callable[[Consent], Any]] = {
    "date": lambda c: c.recorded_at,
    "_lastUpdated": lambda c: last_updated(c),
    "_id": lambda c: str(c.uuid),
}


def last_updated(consent: Consent) -> dt.datetime:
    """A statement changes once at most: when it is withdrawn."""
    return consent.withdrawn_at or consent.recorded_at


def read(call: Call) -> FhirResult:
    opened = records_own(call.actor, Action.CONSENT_READ, None, "Consent")
    try:
        wanted = uuid.UUID(call.resource_id)
    except ValueError:
        raise FhirError(404) from None
    consents = consents_of(opened)
    consent = next((c for c in consents if c.uuid == wanted), None)
    if consent is None:
        raise FhirError(404)
    return FhirResult(
        consent_resource(consent, opened.patient.uuid, superseded=superseded(consent, consents))
    )


def search(call: Call) -> FhirResult:
    query = call.query
    wanted = _statuses(query.occurrences("status"))
    wanted_id, changed = id_test(query), period_test(query, "_lastUpdated")
    opened = records_own(call.actor, Action.CONSENT_READ, searched_patient(query), "Consent")
    everything = consents_of(opened)
    consents = [
        c
        for c in everything
        if ("inactive" if c.withdrawn_at or superseded(c, everything) else "active") in wanted
        and wanted_id(str(c.uuid))
        and changed(last_updated(c))
    ]
    shown_consents, total = page(sorted_rows(consents, query, SORT_KEYS), query)
    matches = [
        Match(consent_resource(c, opened.patient.uuid, superseded=superseded(c, everything)))
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
