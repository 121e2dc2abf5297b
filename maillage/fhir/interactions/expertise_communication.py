"""Communication for the steps of a tele-expertise: read, search by ``part-of``, and write.

The Communication routes (``interactions.communication``) answer secure
messages and these alike: a read finds the message's kind by its id and
asks that kind's gate (here ``policy.expertise.open_request``: one audited
read, 404 for anyone it refuses); a search naming ``part-of=Task/<id>``
lists the steps of those requests, each request opened through the policy.

A create is a step of the conversation, ``partOf`` the request's Task: the
specialist holding it answers (``answer``; ``ask_for_more`` with the
category ``info_request``), the requester replies (``reply``: the clock runs
again when it was on hold, else an addition). Who may write is decided by
the action for the caller's side: the Task is read first (audited) to know
that side, then the action audits the write. A pool member must take the
request (Task accepted) before answering it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.communication import Communication

from maillage.directory.models import Professional
from maillage.expertise import actions
from maillage.expertise.models import Message, MessageKind
from maillage.fhir.created import created, not_kept
from maillage.fhir.interactions.service_request import (
    opened,
    peeked,
    reference_parts,
    require_expertise,
    rule_broken,
)
from maillage.fhir.mapping.expertise_communication import (
    KIND_SYSTEM,
    StepContext,
    expertise_communication,
)
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call
from maillage.fhir.search import (
    MAX_COUNT,
    Match,
    SearchQuery,
    all_of,
    date_q,
    ids_q,
    period_q,
    reference_id,
    searchset,
    sorted_rows,
)
from maillage.fhir.validation import load_json, parse
from maillage.files.storage import Upload
from maillage.policy import expertise as policy
from maillage.policy.expertise import RequestAccess, RequestNotFound, Side

_TYPE = "Communication"


def _context(call: Call, access: RequestAccess, steps: Sequence[Message]) -> StepContext:
    authors = {m.author_id for m in steps if m.author_id is not None}
    practitioners = dict(
        Professional.objects.filter(user_id__in=authors).values_list("user_id", "uuid")
    )
    previous = {later.pk: earlier.uuid for earlier, later in itertools.pairwise(steps)}
    return StepContext(call.request.base_url, practitioners, previous)


def _steps(access: RequestAccess) -> list[Message]:
    """The request's conversation, in order, with its files."""
    return list(
        access.request.messages.order_by("created_at", "pk").prefetch_related("attachments__file")
    )


def _resources(call: Call, access: RequestAccess, shown: Sequence[Message]) -> list[Json]:
    steps = _steps(access)
    context = _context(call, access, steps)
    request = access.request
    return [expertise_communication(m, request, list(m.attachments.all()), context) for m in shown]


# --- read --------------------------------------------------------------------------


def read(call: Call, wanted: uuid.UUID, role_refused: int = 403) -> FhirResult | None:
    """The step with this id, through the request's gate; None when no step has it.

    A role that never takes part in a tele-expertise is refused (audited)
    with ``role_refused``: the status it gets for an id of nothing, so that
    the answer does not tell a step from no resource.
    """
    request_uuid = policy.request_of_message(wanted)
    if request_uuid is None:
        return None
    try:
        require_expertise(call.actor, _TYPE)
    except FhirError:
        raise FhirError(role_refused) from None
    access = opened(call.actor, str(request_uuid), _TYPE, message=str(wanted))
    steps = [m for m in _steps(access) if m.uuid == wanted]
    if not steps:
        raise FhirError(404)
    return FhirResult(_resources(call, access, steps)[0])


# --- search ------------------------------------------------------------------------

# More Tasks than this in one search is more than a conversation view needs.
MAX_TASKS = 20


def _task_ids(query: SearchQuery) -> set[uuid.UUID]:
    """The Tasks ``part-of`` names: AND over occurrences of OR over alternatives."""
    chosen: set[uuid.UUID] | None = None
    for alternatives in query.occurrences("part-of"):
        ids = set()
        for value in alternatives:
            found = reference_id("part-of", value, "Task")
            if found is not None:
                ids.add(found)
        chosen = ids if chosen is None else chosen & ids
    return chosen or set()


def _criteria(query: SearchQuery) -> Q:
    def sender(value: str) -> Q:
        found = reference_id("sender", value, "Practitioner")
        return Q(author__professional__uuid=found) if found else Q(pk__in=[])

    def patient(value: str) -> Q:
        found = reference_id("patient", value, "Patient")
        return Q(request__patient__uuid=found) if found else Q(pk__in=[])

    return (
        all_of(query, "sender", sender)
        & all_of(query, "patient", patient)
        & all_of(query, "sent", lambda v: date_q("sent", v, "created_at__date"))
        # Only mail through the gateway has a Message-ID.
        & all_of(query, "identifier", lambda _v: Q(pk__in=[]))
        & ids_q(query)
        & period_q(query, "_lastUpdated", "created_at")
    )


def _recipient_test(query: SearchQuery) -> list[set[str]]:
    occurrences = []
    for alternatives in query.occurrences("recipient"):
        ids = set()
        for value in alternatives:
            found = reference_id("recipient", value, "Practitioner")
            if found is not None:
                ids.add(f"Practitioner/{found}")
        occurrences.append(ids)
    return occurrences


def search(call: Call) -> FhirResult:
    """The steps of the Tasks ``part-of`` names that the caller takes part in."""
    query = call.query
    criteria = _criteria(query)
    recipients = _recipient_test(query)
    wanted = sorted(_task_ids(query))
    if len(wanted) > MAX_TASKS:
        raise FhirError.single(
            400,
            _("At most %(count)d Tasks in part-of.") % {"count": MAX_TASKS},
            code="too-costly",
            expression="part-of",
        )
    require_expertise(call.actor, _TYPE)
    resources: list[Json] = []
    for task_id in wanted:
        try:
            access = policy.open_request(
                call.actor, task_id, detail={"fhir": _TYPE, "search": True}
            )
        except RequestNotFound:
            continue
        matching = set(access.request.messages.filter(criteria).values_list("pk", flat=True))
        shown = [m for m in _steps(access) if m.pk in matching]
        resources += _resources(call, access, shown)
    resources = [r for r in resources if _received_by(r, recipients)]
    keys = {
        "sent": lambda r: r["sent"],
        "_lastUpdated": lambda r: r["meta"]["lastUpdated"],
        "_id": lambda r: r["id"],
    }
    ordered = sorted_rows(sorted(resources, key=lambda r: r["sent"]), query, keys)
    page = ordered[query.offset : query.offset + min(query.count, MAX_COUNT)]
    return searchset(call, [Match(r) for r in page], len(ordered))


def _received_by(resource: Json, recipients: list[set[str]]) -> bool:
    shown = {r.get("reference") for r in resource.get("recipient", [])}
    return all(shown & wanted for wanted in recipients)


# --- create ------------------------------------------------------------------------

KNOWN_ELEMENTS = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "status",
        "partOf",
        "about",
        "category",
        "subject",
        "topic",
        "sent",
        "sender",
        "recipient",
        "payload",
        "inResponseTo",
    }
)
PATHS = {"body": "Communication.payload", "uploads": "Communication.payload"}


def _invalid(message: str, path: str) -> FhirError:
    return FhirError.single(422, message, code="business-rule", expression=path)


def _task_of(resource: Communication) -> str:
    tasks = [
        reference_parts(ref.reference)
        for ref in resource.partOf or []
        if ref.reference and reference_parts(ref.reference)[0] == "Task"
    ]
    if len(tasks) != 1:
        raise _invalid(
            _(
                "A Communication is written here as a step of a tele-expertise: partOf names "
                "its Task (Task/id). Secure messages are sent from the messaging pages."
            ),
            "Communication.partOf",
        )
    return tasks[0][1]


def _content(resource: Communication) -> tuple[str, list[Upload]]:
    texts: list[str] = []
    uploads: list[Upload] = []
    for index, part in enumerate(resource.payload or []):
        if part.contentString:
            texts.append(part.contentString)
        elif part.contentAttachment is not None:
            data = part.contentAttachment.data
            if not data:
                raise _invalid(
                    _("Send each attached file's content in data (base64)."),
                    f"Communication.payload[{index}].contentAttachment",
                )
            name = part.contentAttachment.title or "piece-jointe"
            uploads.append(Upload(name, bytes(data)))
        else:
            raise _invalid(
                _("A payload is text (contentString) or a file (contentAttachment)."),
                f"Communication.payload[{index}]",
            )
    return "\n\n".join(texts), uploads


def _asks_for_more(resource: Communication) -> bool:
    return any(
        c.system == KIND_SYSTEM and c.code == MessageKind.INFO_REQUEST
        for category in resource.category or []
        for c in category.coding or []
    )


def create(call: Call) -> FhirResult:
    user = call.actor
    require_expertise(user, _TYPE)
    body = load_json(call.request.body)
    resource = parse(Communication, body)
    task_id = _task_of(resource)
    text, uploads = _content(resource)
    warnings = [not_kept(f"Communication.{name}") for name in body if name not in KNOWN_ELEMENTS]
    # The action below audits the change: opening it here audits only a refusal.
    access = peeked(user, task_id, _TYPE, step="communication").access
    try:
        if access.side == Side.REQUESTER:
            message = actions.reply(user, access.request.uuid, text, uploads)
        elif _asks_for_more(resource):
            message = actions.ask_for_more(user, access.request.uuid, text, uploads)
        else:
            message = actions.answer(user, access.request.uuid, text, uploads)
    except RequestNotFound:
        raise FhirError(404) from None
    except actions.ExpertiseRuleBroken as error:
        raise rule_broken(error, PATHS) from None
    access.request.refresh_from_db()
    shown = [m for m in _steps(access) if m.pk == message.pk]
    location = f"{call.request.base_url}/Communication/{message.uuid}"
    return created(call, _resources(call, access, shown)[0], warnings, location)
