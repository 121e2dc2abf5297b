"""Helpers the interaction modules share."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from maillage.fhir.outcome import FhirError
from maillage.fhir.search import ParamType, SearchParam, SearchQuery, reference_id
from maillage.policy.gate import (
    NotAllowed,
    PatientNotFound,
    RecordAccess,
    get_patient,
    open_record_by_id,
    own_patient,
    require_purpose,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient

PATIENT_PARAM = SearchParam(
    "patient",
    ParamType.REFERENCE,
    "The patient, as Patient/id or id; a patient may leave it out to mean their own record.",
    single=True,
)


def uuid_or_404(resource_id: str) -> uuid.UUID:
    """Our ids are UUIDs; anything else names no resource."""
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        raise FhirError(404) from None


def searched_patient(query: SearchQuery) -> str | None:
    """The id of the patient a search names, as the gate takes it; None when not named.

    A value that cannot be one of our ids is passed on as given: the gate
    refuses it like an unknown id, and audits it.
    """
    value = query.first("patient")
    if value is None:
        return None
    found = reference_id("patient", value, "Patient")
    return str(found) if found is not None else value


def own_patient_id(user: User) -> uuid.UUID | None:
    """The public id of the user's own record, if they are a patient, to hand to the policy."""
    own = own_patient(user)
    return own.uuid if own is not None else None


def _own_id_or_refuse(user: User, purpose: str, detail: dict[str, str]) -> str:
    try:
        require_purpose(user, purpose, detail)
    except NotAllowed:
        raise FhirError(403) from None
    own = own_patient_id(user)
    if own is None:
        raise FhirError(404)
    return str(own)


def records_own(
    user: User, purpose: str, patient_id: str | None, resource_type: str
) -> RecordAccess:
    """The patient's own record opened for ``purpose``, as her pages open it."""
    detail = {"fhir": resource_type}
    if patient_id is None:
        patient_id = _own_id_or_refuse(user, purpose, detail)
    try:
        return open_record_by_id(user, patient_id, purpose, detail=detail)
    except PatientNotFound:
        raise FhirError(404) from None


def patients_own(user: User, purpose: str, patient_id: str | None, resource_type: str) -> Patient:
    """The patient whose own data this is, through the patient gate for ``purpose``.

    With a patient named (a search), the gate decides and audits in that
    patient's trail: anyone but the patient gets 404. Without one (a read by
    id, a search without ``patient``), a role that may never do ``purpose``
    gets 403, audited; a patient gets their own record.
    """
    detail = {"fhir": resource_type}
    if patient_id is None:
        patient_id = _own_id_or_refuse(user, purpose, detail)
    try:
        return get_patient(user, patient_id, purpose, detail=detail)
    except PatientNotFound:
        raise FhirError(404) from None
