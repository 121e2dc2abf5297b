"""Consent (the patient's dated decisions about their record) to FHIR Consent.

Every kind is a privacy consent (scope patient-privacy, category LOINC
59284-0 "Patient Consent", plus our kind as a second category) performed by
the patient; what it decides is its provision:

- sharing with the care team: permit (consented) or deny (refused), policy
  rule OPTIN or OPTOUT (v3-ActCode); a later sharing statement supersedes it;
- opposition to a professional: deny, with that Practitioner as actor;
- opposition to emergency access: deny for the purpose ETREAT (v3-ActReason);
- a masked document: deny on that DocumentReference, security label MASQUE_PS.

The last three restrict a sharing the patient keeps: policy rule OPTINR
(opt-in with restrictions). A statement withdrawn, or a sharing statement
superseded by a later one, is inactive; the history keeps every one.
"""

from __future__ import annotations

import uuid

from fhir.resources.R4B.consent import Consent as FhirConsent

from maillage.fhir.mapping.common import coding, concept, meta, reference
from maillage.fhir.mapping.document_reference import MASQUE_PS, VISIBILITY_DISPLAY
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    ACT_CODE_SYSTEM,
    ACT_REASON_SYSTEM,
    CONSENT_KIND_SYSTEM,
    CONSENT_SCOPE_SYSTEM,
    FR_CORE_CONSENT,
    LOINC,
    PARTICIPATION_TYPE_SYSTEM,
    VISIBILITY_SYSTEM,
)
from maillage.fhir.validation import emit
from maillage.records.models import Consent, ConsentKind

CONSENT_ACTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentaction"


def _policy_rule(consent: Consent) -> str:
    if consent.kind == ConsentKind.SHARING:
        return "OPTIN" if consent.granted else "OPTOUT"
    return "OPTINR"


def _provision(consent: Consent) -> Json:
    permits = consent.kind == ConsentKind.SHARING and consent.granted
    period: Json = {"start": consent.recorded_at.isoformat()}
    if consent.withdrawn_at is not None:
        period["end"] = consent.withdrawn_at.isoformat()
    provision: Json = {
        "type": "permit" if permits else "deny",
        "period": period,
        "action": [concept(CONSENT_ACTION_SYSTEM, "access", "Access")],
    }
    if consent.kind == ConsentKind.OPPOSE_PROFESSIONAL and consent.professional is not None:
        professional = consent.professional
        provision["actor"] = [
            {
                "role": concept(PARTICIPATION_TYPE_SYSTEM, "IRCP", "information recipient"),
                "reference": reference("Practitioner", professional.uuid, str(professional)),
            }
        ]
    if consent.kind == ConsentKind.OPPOSE_EMERGENCY:
        provision["purpose"] = [coding(ACT_REASON_SYSTEM, "ETREAT", "Emergency Treatment")]
    if consent.kind == ConsentKind.MASK_DOCUMENT and consent.document is not None:
        provision["data"] = [
            {
                "meaning": "instance",
                "reference": reference("DocumentReference", consent.document.uuid),
            }
        ]
        provision["securityLabel"] = [
            coding(VISIBILITY_SYSTEM, MASQUE_PS, VISIBILITY_DISPLAY[MASQUE_PS])
        ]
    return provision


def consent_resource(consent: Consent, patient: uuid.UUID, *, superseded: bool) -> Json:
    """The Consent; ``consent`` must come after the gate, with professional and document."""
    in_force = consent.withdrawn_at is None and not superseded
    kind = ConsentKind(consent.kind)
    data: Json = {
        "resourceType": "Consent",
        "id": str(consent.uuid),
        # A statement changes once: withdrawn, or superseded by a later one.
        "meta": meta(
            consent.withdrawn_at or consent.recorded_at, 1 if in_force else 2, FR_CORE_CONSENT
        ),
        "status": "active" if in_force else "inactive",
        "scope": concept(CONSENT_SCOPE_SYSTEM, "patient-privacy", "Privacy Consent"),
        "category": [
            concept(LOINC, "59284-0", "Patient Consent"),
            {"coding": [coding(CONSENT_KIND_SYSTEM, kind.value, str(kind.label))]},
        ],
        "patient": reference("Patient", patient),
        "dateTime": consent.recorded_at.isoformat(),
        "performer": [reference("Patient", patient)],
        "policyRule": concept(ACT_CODE_SYSTEM, _policy_rule(consent)),
        "provision": _provision(consent),
    }
    return emit(FhirConsent, data)
