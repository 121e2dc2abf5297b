"""What the patient decided, read once per decision and in one place.

"The latest sharing statement wins" and "an opposition is in force until it
is withdrawn" are written here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maillage.db.statements import Rows
from maillage.records.models import Consent, ConsentKind

if TYPE_CHECKING:
    from maillage.patients.models import Patient


@dataclass(frozen=True)
class RecordState:
    """The patient's consents in force."""

    sharing_refused: bool
    opposed_professionals: frozenset[int]
    emergency_opposed: bool
    masked_documents: frozenset[int]


_STATE_COLUMNS = ("kind", "granted", "professional_id", "document_id", "withdrawn_at")
# Asked for every decision about a patient: compiled once per process
# (maillage.db.statements).
_CONSENTS_OF = Rows(
    Consent.objects.order_by("-recorded_at", "-pk").values_list(*_STATE_COLUMNS), "patient"
)


def record_state(patient: Patient) -> RecordState:
    rows = _CONSENTS_OF.all(patient.pk)
    return state_of([dict(zip(_STATE_COLUMNS, row, strict=True)) for row in rows])


def latest_sharing(consents: list[Any]) -> Any:
    """The statement about sharing in force: the latest one wins (rows newest first)."""
    kind = (
        (lambda c: c["kind"]) if consents and isinstance(consents[0], dict) else (lambda c: c.kind)
    )
    return next((c for c in consents if kind(c) == ConsentKind.SHARING), None)


def state_of(consents: list[dict[str, Any]]) -> RecordState:
    """The state from consent rows given newest first."""
    latest = latest_sharing(consents)
    in_force = [c for c in consents if c["withdrawn_at"] is None]
    return RecordState(
        sharing_refused=latest is not None and not latest["granted"],
        opposed_professionals=frozenset(
            c["professional_id"] for c in in_force if c["kind"] == ConsentKind.OPPOSE_PROFESSIONAL
        ),
        emergency_opposed=any(c["kind"] == ConsentKind.OPPOSE_EMERGENCY for c in in_force),
        masked_documents=frozenset(
            c["document_id"] for c in in_force if c["kind"] == ConsentKind.MASK_DOCUMENT
        ),
    )


def superseded(consent: Consent, consents: list[Consent]) -> bool:
    """A sharing statement that a later one replaced (rows newest first)."""
    latest = latest_sharing(consents)
    return consent.kind == ConsentKind.SHARING and (latest is None or consent.pk != latest.pk)
