"""Every path that sends patient data asks here, for each receiver.

A message about a patient, the record documents attached to it, and later a
report to the médecin traitant or an opinion to a requester: each receiver is
decided like a reader (``decide`` with MESSAGE_RECEIVE, DOCUMENT_RECEIVE). An
outside address (MSSanté, no account here) has no relation to compute: it
may receive the exchange, but never a document the patient masked, refused
to share, or that was withdrawn. Each decision is audited on the patient,
naming the receiver; a refusal tells the sender whom, never why in terms the
sender could not otherwise see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maillage.audit.actions import Event, record_many
from maillage.audit.models import Action, Outcome
from maillage.policy.consents import RecordState, record_state
from maillage.policy.decide import Decision, Rule, Subject, decide
from maillage.records.models import DocumentStatus

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.patients.models import Patient
    from maillage.records.models import Document


@dataclass(frozen=True)
class Receiver:
    """Someone data goes to: a user of Maillage, or an outside address."""

    label: str
    user: User | None = None
    address: str = ""

    @property
    def audit_name(self) -> str:
        return f"user:{self.user.pk}" if self.user is not None else f"mail:{self.address}"

    @property
    def key(self) -> str:
        """One receiver once: the same account, or the same address whatever its case."""
        return f"user:{self.user.pk}" if self.user is not None else f"mail:{self.address.lower()}"


@dataclass(frozen=True)
class Refusal:
    receiver: Receiver
    document: Document | None
    rule: str


def _outside_rule(state: RecordState, document: Document) -> str | None:
    if state.sharing_refused:
        return Rule.SHARING_REFUSED
    if document.pk in state.masked_documents:
        return Rule.MASKED
    if document.status == DocumentStatus.WITHDRAWN:
        return Rule.WITHDRAWN
    return None


def _decisions(
    receiver: Receiver, patient: Patient, state: RecordState, documents: Sequence[Document]
) -> list[tuple[str, Document | None, str | None]]:
    """(purpose, document, refusing rule or None) for this receiver."""
    if receiver.user is None:
        return [(Action.MESSAGE_RECEIVE, None, None)] + [
            (Action.DOCUMENT_RECEIVE, d, _outside_rule(state, d)) for d in documents
        ]
    subject = Subject.of(receiver.user, patient, state)
    found: list[tuple[str, Document | None, str | None]] = []
    message = decide(subject, Action.MESSAGE_RECEIVE)
    found.append((Action.MESSAGE_RECEIVE, None, None if message.granted else message.rule))
    for document in documents:
        decision: Decision = decide(subject, Action.DOCUMENT_RECEIVE, document=document)
        found.append(
            (Action.DOCUMENT_RECEIVE, document, None if decision.granted else decision.rule)
        )
    return found


def check_receivers(
    sender: User,
    patient: Patient,
    receivers: Sequence[Receiver],
    documents: Sequence[Document] = (),
    *,
    detail: dict[str, str] | None = None,
) -> list[Refusal]:
    """Decide each receiver and each document for them; refusals are audited now.

    Grants are not written here: the sending action writes them with the
    outcome once the data has gone (``audit_receivers``).
    """
    state = record_state(patient)
    refusals: list[Refusal] = []
    events: list[Event] = []
    for receiver in receivers:
        for purpose, document, rule in _decisions(receiver, patient, state, documents):
            if rule is None:
                continue
            refusals.append(Refusal(receiver, document, rule))
            events.append(
                Event(
                    action=purpose,
                    outcome=Outcome.DENIED,
                    patient=patient,
                    detail={
                        **(detail or {}),
                        "receiver": receiver.audit_name,
                        "rule": rule,
                        **({"document": str(document.uuid)} if document is not None else {}),
                    },
                )
            )
    record_many(sender, events)
    return refusals


def audit_receivers(
    sender: User,
    patient: Patient,
    receivers: Sequence[Receiver],
    documents: Sequence[Document],
    *,
    outcome: str = Outcome.GRANTED,
    detail: dict[str, str] | None = None,
) -> None:
    """One entry per receiver once the data has gone (or failed to), naming them."""
    record_many(
        sender,
        [
            Event(
                action=Action.MESSAGE_RECEIVE,
                outcome=outcome,
                patient=patient,
                basis="exchange",
                detail={
                    **(detail or {}),
                    "receiver": receiver.audit_name,
                    "documents": [str(d.uuid) for d in documents],
                },
            )
            for receiver in receivers
        ],
    )


def may_receive_document(user: User, document: Document) -> Decision:
    """For a receiver opening a record document that reached them by message."""
    subject = Subject.of(user, document.patient)
    return decide(subject, Action.DOCUMENT_RECEIVE, document=document)
