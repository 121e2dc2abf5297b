"""What the tele-expertise FHIR tests share: a request asked through the actions, API verbs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from maillage.expertise import actions
from maillage.expertise.models import Request
from maillage.expertise.tests.conftest import PDF
from maillage.fhir.mapping.service_request import ORAL_CONSENT_EXTENSION, POOL_SYSTEM
from maillage.fhir.tests.conftest import BASE, FHIR_JSON
from maillage.files.storage import Upload

QUESTION = "Lésion pigmentée du dos, évolutive depuis 3 mois. Exérèse ?"


def ask_pool(personas: Any, dermatology: Any, **changes: Any) -> Request:
    """The médecin traitant asks the dermatology pool (through the actions), sent."""
    gp = personas.treating_doctor.user
    ask = {
        "question": QUESTION,
        "priority": "soon",
        "pool_uuid": dermatology.pool.uuid,
        "uploads": [Upload("lesion.pdf", PDF)],
        "consent": True,
        **changes,
    }
    draft = actions.save_draft(gp, personas.patient.uuid, actions.Ask(**ask))
    return actions.submit(gp, draft.uuid)


def consent(practitioner_id: object, when: str = "2026-11-30T09:00:00+01:00") -> dict[str, Any]:
    return {
        "url": ORAL_CONSENT_EXTENSION,
        "extension": [
            {"url": "recorder", "valueReference": {"reference": f"Practitioner/{practitioner_id}"}},
            {"url": "time", "valueDateTime": when},
        ],
    }


def pool_performer(pool: Any) -> dict[str, Any]:
    return {"type": "CareTeam", "identifier": {"system": POOL_SYSTEM, "value": str(pool.uuid)}}


def service_request(personas: Any, performer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A ServiceRequest the médecin traitant would send, with the patient's consent."""
    doctor = personas.treating_doctor
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": "asap",
        "subject": {"reference": f"Patient/{personas.patient.uuid}"},
        "requester": {"reference": f"Practitioner/{doctor.uuid}"},
        "performer": [performer],
        "note": [{"text": QUESTION}],
        "extension": [consent(doctor.uuid)],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def send(api: Any, method: str, path: str, body: object, who: Any, **extra: Any) -> Any:
    """PUT or PATCH with a token (the test client's own verbs)."""
    content_type = extra.pop("content_type", FHIR_JSON)
    data = body if isinstance(body, str) else json.dumps(body)
    verb = getattr(api.client, method.lower())
    return verb(
        f"{BASE}/{path}",
        data,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api.token(who)}",
        **extra,
    )


def merge_patch(api: Any, path: str, changes: dict[str, Any], who: Any, **extra: Any) -> Any:
    return send(api, "PATCH", path, changes, who, content_type="application/merge-patch+json")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
