"""Communication: read and search secure messages, through the messaging gate.

A message is seen by the participants of its thread only, as on the
messaging pages: ``policy.messages.get_thread`` decides, and audits the read
when the thread is about a patient (MESSAGE_READ, ``{"fhir":
"Communication"}`` in the detail); anyone else gets 404, audited in that
patient's trail. Roles without secure messaging (patients, analysts) get 403,
audited. A search only ever looks at the caller's own threads, and each
thread about a patient on the page returned is read through the same gate.

Reading through the API does not set a read receipt: ``received`` stays the
time a person opened the thread on the messaging pages.

The steps of a tele-expertise are Communications too, under ids of their
own (``interactions.expertise_communication``): a read asks the gate of the
kind its id belongs to; a search naming ``part-of`` (a request's Task)
lists those steps; a create is always such a step.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from maillage.accounts.models import User
from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.directory.models import Professional
from maillage.fhir.interactions import expertise_communication as expertise
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.mapping.communication import MESSAGE_ID_SYSTEM, MessageContext, communication
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
    ids_q,
    invalid_value,
    ordering,
    page,
    period_q,
    reference_id,
    searchset,
    token,
)
from maillage.messaging.models import Message
from maillage.policy.messages import (
    ThreadNotFound,
    get_thread,
    may_use_messaging,
    message_in,
    messages_of_participant,
    previous_messages,
    thread_of_message,
)

SEARCH_PARAMS = (
    SearchParam(
        "patient", ParamType.REFERENCE, "The patient the thread is about, as Patient/id or id."
    ),
    SearchParam(
        "sender", ParamType.REFERENCE, "The Practitioner who sent it, as Practitioner/id or id."
    ),
    SearchParam(
        "recipient",
        ParamType.REFERENCE,
        "A Practitioner it was sent to, as Practitioner/id or id.",
    ),
    SearchParam(
        "sent",
        ParamType.DATE,
        "Day it was sent: YYYY, YYYY-MM or YYYY-MM-DD, with prefix eq, ne, lt, le, gt or ge.",
    ),
    SearchParam(
        "identifier",
        ParamType.TOKEN,
        f"The mail's Message-ID ({MESSAGE_ID_SYSTEM}|<id@host>), for mail through the gateway.",
    ),
    SearchParam(
        "part-of",
        ParamType.REFERENCE,
        "A tele-expertise's Task (Task/id): the steps of its conversation, in order, instead "
        "of secure messages.",
    ),
    # A message never changes: its last update is when it was sent.
    *general_params(
        sort=("sent", "_lastUpdated", "_id"),
        include=(
            "Communication:subject",
            "Communication:patient",
            "Communication:sender",
            "Communication:recipient",
            "Communication:part-of",
        ),
    ),
)

SORT_FIELDS = {"sent": ("sent_at",), "_lastUpdated": ("sent_at",), "_id": ("uuid",)}

_DETAIL = {"fhir": "Communication"}


def _require_messaging(user: User) -> None:
    """403, audited, for a role that has no secure messaging at all."""
    if not may_use_messaging(user):
        record(user, Event(action=Action.MESSAGE_READ, outcome=Outcome.DENIED, detail=_DETAIL))
        raise FhirError(403)


def _context(call: Call, messages: Iterable[Message]) -> MessageContext:
    shown = list(messages)
    users = {m.sender_id for m in shown} | {d.user_id for m in shown for d in m.deliveries.all()}
    practitioners = dict(
        Professional.objects.filter(user_id__in=[u for u in users if u is not None]).values_list(
            "user_id", "uuid"
        )
    )
    return MessageContext(
        base_url=call.request.base_url,
        viewer_id=call.actor.pk,
        practitioners=practitioners,
        previous=previous_messages(shown),
    )


def _resource(message: Message, context: MessageContext) -> dict[str, object]:
    return communication(
        message, list(message.deliveries.all()), list(message.attachments.all()), context
    )


def read(call: Call) -> FhirResult:
    wanted = uuid_or_404(call.resource_id)
    thread_uuid = thread_of_message(wanted)
    if thread_uuid is None:
        # A role with messaging gets 404 for an id of nothing, one without 403: the same here.
        step = expertise.read(call, wanted, 404 if may_use_messaging(call.actor) else 403)
        if step is not None:
            return step
    _require_messaging(call.actor)
    if thread_uuid is None:
        raise FhirError(404)
    try:
        thread = get_thread(
            call.actor, thread_uuid, Action.MESSAGE_READ, message=str(wanted), **_DETAIL
        )
    except ThreadNotFound:
        raise FhirError(404) from None
    message = message_in(thread, wanted)
    return FhirResult(_resource(message, _context(call, [message])))


def search(call: Call) -> FhirResult:
    query = call.query
    if query.occurrences("part-of"):
        return expertise.search(call)
    # Checked before the gate: a bad parameter is the client's mistake, not an access.
    criteria = (
        all_of(query, "patient", lambda v: _reference_q("patient", v, "Patient", "thread__patient"))
        & all_of(query, "sender", lambda v: _reference_q("sender", v, "Practitioner", "sender"))
        & all_of(
            query,
            "recipient",
            lambda v: _reference_q("recipient", v, "Practitioner", "deliveries__user"),
        )
        & all_of(query, "sent", lambda v: date_q("sent", v, "sent_at__date"))
        & all_of(query, "identifier", _identifier_q)
        & ids_q(query)
        & period_q(query, "_lastUpdated", "sent_at")
    )
    _require_messaging(call.actor)
    rows = messages_of_participant(call.actor, criteria).order_by(
        *ordering(query, SORT_FIELDS, ("-sent_at", "-pk"))
    )
    messages, total = page(rows, query)
    _read_threads(call.actor, messages)
    context = _context(call, messages)
    return searchset(call, [Match(_resource(m, context)) for m in messages], total)


def _read_threads(user: User, messages: list[Message]) -> None:
    """Each thread of the page through the gate: it audits the reads about a patient."""
    for thread_uuid in dict.fromkeys(m.thread.uuid for m in messages):
        get_thread(user, thread_uuid, Action.MESSAGE_READ, **_DETAIL)


def _reference_q(name: str, value: str, resource_type: str, path: str) -> Q:
    found = reference_id(name, value, resource_type)
    if found is None:
        return Q(pk__in=[])
    if resource_type == "Patient":
        return Q(**{f"{path}__uuid": found})
    # A Practitioner is a professional of the directory; messages know its user account.
    return Q(**{f"{path}__professional__uuid": found})


def _identifier_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, MESSAGE_ID_SYSTEM):
        raise invalid_value(
            "identifier",
            value,
            _("Messages are identified by their Message-ID, system %(system)s.")
            % {"system": MESSAGE_ID_SYSTEM},
        )
    if not wanted.code:
        return Q(pk__in=[])
    # Stored as in the header, in angle brackets; accept it with or without them.
    code = wanted.code if wanted.code.startswith("<") else f"<{wanted.code}>"
    return Q(message_id=code)


_DOCUMENTATION = (
    "Secure messages between professionals, one Communication per message, for the "
    "participants of the thread only; patients and analysts get 403, others 404, and "
    "each attempt about a patient is audited. Attachments are Binary urls the "
    "participants may read. The steps of a tele-expertise are Communications partOf its "
    "Task, read by its participants and searched by part-of=Task/id; a create is such a "
    "step (the specialist's answer, or with the category info_request a question back; "
    "the requester's reply)."
)

ROUTES = (
    Route(Interaction.READ, read, "Communication", documentation=_DOCUMENTATION),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Communication",
        SEARCH_PARAMS,
        documentation=_DOCUMENTATION,
    ),
    Route(Interaction.CREATE, expertise.create, "Communication", documentation=_DOCUMENTATION),
)
