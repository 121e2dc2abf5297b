"""An entry of a patient's audit trail to FHIR AuditEvent, after IHE BALP.

Following the Basic Audit Log Patterns: ``type`` is ``rest`` (audit-event-type)
with the RESTful interaction as ``subtype`` for what came through this API,
and the DICOM event for the rest (Patient Record, Query, Audit Log Used,
Security Alert with Emergency Override Started for a break-the-glass); our
own action code is always a last subtype, with its label. ``action`` is
C/R/U/E; ``outcome`` 0 when granted and 4 (minor failure, "often equivalent
to an HTTP 400 response") when refused, as our refusals are answered with a
404. ``purposeOfEvent`` is TREAT, ETREAT for break-the-glass (its stated
reason in ``agent.purposeOfUse.text``), PATRQT for the patient's own
accesses, HOPERAT for identity vigilance and reviews. The agent is the person
(a Practitioner or the Patient when known, a display otherwise) with their
role and, as an extension, the relation that opened the record; entities are
the patient and, for a document, the DocumentReference.

Left out on purpose: the chain hashes, internal ids, IP addresses, and any
detail of the entry besides the document it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy
from fhir.resources.R4B.auditevent import AuditEvent

from maillage.accounts.models import Role
from maillage.audit.models import Action, AuditEntry, Channel, Outcome
from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    ACCESS_BASIS_EXTENSION,
    ACCESS_BASIS_SYSTEM,
    ACT_REASON_SYSTEM,
    AUDIT_ACTION_SYSTEM,
    AUDIT_ENTITY_TYPE_SYSTEM,
    AUDIT_EVENT_TYPE_SYSTEM,
    DICOM_SYSTEM,
    OBJECT_ROLE_SYSTEM,
    RESTFUL_INTERACTION_SYSTEM,
    ROLE_SYSTEM,
    SECURITY_SOURCE_TYPE_SYSTEM,
)
from maillage.fhir.validation import emit
from maillage.policy.relations import RELATION_LABELS, Relation

SOURCE = "Maillage"

PATIENT_RECORD = ("110110", "Patient Record")
QUERY = ("110112", "Query")
SECURITY_ALERT = ("110113", "Security Alert")
AUDIT_LOG_USED = ("110101", "Audit Log Used")
USER_AUTHENTICATION = ("110114", "User Authentication")
APPLICATION_ACTIVITY = ("110100", "Application Activity")
EMERGENCY_OVERRIDE_STARTED = ("110127", "Emergency Override Started")
# Data sent to someone (DICOM "Export"): a message or a document to each receiver.
EXPORT = ("110106", "Export")


@dataclass(frozen=True)
class Kind:
    rest: str  # restful-interaction code when it came through the API; "" when none fits
    action: str  # AuditEvent.action: C, R, U, D or E
    event: tuple[str, str]  # DICOM event type otherwise
    subtype: tuple[str, str] | None = None  # a DICOM subtype, when one says more


KINDS: Mapping[str, Kind] = {
    Action.PATIENT_READ: Kind("read", "R", PATIENT_RECORD),
    Action.PATIENT_SEARCH: Kind("search-type", "E", QUERY),
    Action.PATIENT_CREATE: Kind("create", "C", PATIENT_RECORD),
    Action.PATIENT_UPDATE: Kind("update", "U", PATIENT_RECORD),
    Action.PATIENT_LINK: Kind("", "U", PATIENT_RECORD),
    Action.DUPLICATE_REVIEW: Kind("", "R", PATIENT_RECORD),
    Action.ACCESS_LOG_READ: Kind("", "R", AUDIT_LOG_USED),
    Action.RECORD_READ: Kind("search-type", "R", PATIENT_RECORD),
    Action.DOCUMENT_READ: Kind("read", "R", PATIENT_RECORD),
    Action.DOCUMENT_CREATE: Kind("create", "C", PATIENT_RECORD),
    Action.DOCUMENT_REPLACE: Kind("", "U", PATIENT_RECORD),
    Action.DOCUMENT_WITHDRAW: Kind("", "U", PATIENT_RECORD),
    Action.BREAK_GLASS: Kind("", "E", SECURITY_ALERT, EMERGENCY_OVERRIDE_STARTED),
    Action.BREAK_GLASS_REVIEW: Kind("", "R", AUDIT_LOG_USED),
    Action.CONSENT_CHANGE: Kind("", "C", PATIENT_RECORD),
    Action.CARE_TEAM_CHANGE: Kind("", "U", PATIENT_RECORD),
    Action.MESSAGE_READ: Kind("", "R", PATIENT_RECORD),
    Action.MESSAGE_SEND: Kind("", "C", PATIENT_RECORD),
    Action.SEARCH: Kind("search-type", "E", QUERY),
    Action.LOGIN: Kind("", "E", USER_AUTHENTICATION),
    Action.LOGIN_FAILED: Kind("", "E", USER_AUTHENTICATION),
    Action.LOGOUT: Kind("", "E", USER_AUTHENTICATION),
    Action.OTP_ENROLLED: Kind("", "E", USER_AUTHENTICATION),
    Action.OTP_FAILED: Kind("", "E", USER_AUTHENTICATION),
    Action.TOKEN_CREATED: Kind("", "E", USER_AUTHENTICATION),
    Action.TOKEN_REJECTED: Kind("", "E", USER_AUTHENTICATION),
    Action.FILE_INTEGRITY_FAILED: Kind("", "E", SECURITY_ALERT),
    Action.MESSAGE_RECEIVE: Kind("", "E", EXPORT),
    Action.DOCUMENT_RECEIVE: Kind("", "E", EXPORT),
    Action.PATIENT_UNLINK: Kind("", "U", PATIENT_RECORD),
    Action.CONSENT_READ: Kind("", "R", PATIENT_RECORD),
    Action.REGULATION_OPEN: Kind("", "E", SECURITY_ALERT, EMERGENCY_OVERRIDE_STARTED),
    Action.REGULATION_CLOSE: Kind("", "E", SECURITY_ALERT),
    Action.REGULATION_REVIEW: Kind("", "R", AUDIT_LOG_USED),
    # Her data left in a bulk export ($export) to its requester.
    Action.BULK_EXPORT: Kind("", "E", EXPORT),
}
UNKNOWN_KIND = Kind("", "E", APPLICATION_ACTIVITY)

TREAT = ("TREAT", "treatment")
ETREAT = ("ETREAT", "Emergency Treatment")
PATRQT = ("PATRQT", "patient requested")
HOPERAT = ("HOPERAT", "healthcare operations")
REVIEW_BASIS = "review"  # an administrator reviewing an emergency access
OPERATIONS_BASES = frozenset({Relation.IDENTITY_VIGILANCE.value, REVIEW_BASIS})
BASIS_LABELS: Mapping[str, object] = {
    **{relation.value: label for relation, label in RELATION_LABELS.items()},
    REVIEW_BASIS: gettext_lazy("review of an emergency access"),
}


@dataclass(frozen=True)
class Actors:
    """Who the actors of a page are, read once: directory entries and the patient."""

    patient: uuid.UUID
    patient_user_id: int | None
    practitioners: Mapping[int, object]  # user pk -> Practitioner id


def _kind(entry: AuditEntry) -> Kind:
    return KINDS.get(entry.action, UNKNOWN_KIND)


def _type(entry: AuditEntry, kind: Kind) -> Json:
    if entry.channel == Channel.FHIR and kind.rest:
        return coding(AUDIT_EVENT_TYPE_SYSTEM, "rest", "RESTful Operation")
    return coding(DICOM_SYSTEM, *kind.event)


def _subtypes(entry: AuditEntry, kind: Kind) -> list[Json]:
    subtypes = []
    if entry.channel == Channel.FHIR and kind.rest:
        subtypes.append(coding(RESTFUL_INTERACTION_SYSTEM, kind.rest, kind.rest))
    if kind.subtype is not None:
        subtypes.append(coding(DICOM_SYSTEM, *kind.subtype))
    subtypes.append(coding(AUDIT_ACTION_SYSTEM, entry.action, entry.get_action_display()))
    return subtypes


def is_break_glass(entry: AuditEntry) -> bool:
    return entry.basis == Relation.BREAK_GLASS or entry.action == Action.BREAK_GLASS


def purpose(entry: AuditEntry) -> tuple[str, str] | None:
    if is_break_glass(entry):
        return ETREAT
    if entry.outcome != Outcome.GRANTED:
        return None  # a refused attempt established no purpose
    if entry.basis == Relation.SELF:
        return PATRQT
    if entry.basis in OPERATIONS_BASES:
        return HOPERAT
    return TREAT


def _who(entry: AuditEntry, actors: Actors) -> Json:
    label = entry.actor_label or SOURCE
    if entry.actor_id is not None and entry.actor_id == actors.patient_user_id:
        return reference("Patient", actors.patient, label)
    practitioner = actors.practitioners.get(entry.actor_id) if entry.actor_id else None
    if practitioner is not None:
        return reference("Practitioner", practitioner, label)
    return {"display": label}


def _agent(entry: AuditEntry, actors: Actors) -> Json:
    agent: Json = {"who": _who(entry, actors), "requestor": entry.actor_id is not None}
    if entry.actor_role in Role.values:
        agent["role"] = [
            {"coding": [coding(ROLE_SYSTEM, entry.actor_role, entry.get_actor_role_display())]}
        ]
    reason = purpose(entry)
    if reason is not None:
        purpose_of_use: Json = {"coding": [coding(ACT_REASON_SYSTEM, *reason)]}
        if is_break_glass(entry) and entry.reason:
            purpose_of_use["text"] = entry.reason
        agent["purposeOfUse"] = [purpose_of_use]
    if entry.basis:
        label = BASIS_LABELS.get(entry.basis, "")
        agent["extension"] = [
            {
                "url": ACCESS_BASIS_EXTENSION,
                "valueCoding": coding(ACCESS_BASIS_SYSTEM, entry.basis, str(label)),
            }
        ]
    return agent


def _entities(entry: AuditEntry, actors: Actors) -> list[Json]:
    entities = [
        {
            "what": reference("Patient", actors.patient),
            "type": coding(AUDIT_ENTITY_TYPE_SYSTEM, "1", "Person"),
            "role": coding(OBJECT_ROLE_SYSTEM, "1", "Patient"),
        }
    ]
    document = (entry.detail or {}).get("document")
    if isinstance(document, str) and _is_uuid(document):
        entities.append(
            {
                "what": reference("DocumentReference", document),
                "type": coding(AUDIT_ENTITY_TYPE_SYSTEM, "2", "System Object"),
                "role": coding(OBJECT_ROLE_SYSTEM, "4", "Domain Resource"),
            }
        )
    return entities


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def audit_event(entry: AuditEntry, actors: Actors) -> Json:
    """The AuditEvent of an entry of ``actors.patient``'s own trail (after the gate)."""
    kind = _kind(entry)
    data: Json = {
        "resourceType": "AuditEvent",
        "id": str(entry.seq),
        # The trail is append-only: an entry never changes.
        "meta": meta(entry.at),
        "type": _type(entry, kind),
        "subtype": _subtypes(entry, kind),
        "action": kind.action,
        "recorded": entry.at.isoformat(),
        "outcome": "0" if entry.outcome == Outcome.GRANTED else "4",
        "agent": [_agent(entry, actors)],
        "source": {
            "site": SOURCE,
            "observer": {"display": SOURCE},
            "type": [coding(SECURITY_SOURCE_TYPE_SYSTEM, "4", "Application Server")],
        },
        "entity": _entities(entry, actors),
    }
    if entry.outcome != Outcome.GRANTED:
        data["outcomeDesc"] = str(Outcome(entry.outcome).label)
    reason = purpose(entry)
    if reason is not None:
        data["purposeOfEvent"] = [{"coding": [coding(ACT_REASON_SYSTEM, *reason)]}]
    return emit(AuditEvent, data)
