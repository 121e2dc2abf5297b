"""Task: the workflow of a tele-expertise request, read, searched and driven through the API.

A Task has its request's id and exists with it (``mapping.task``). Reads and
searches go through ``policy.expertise`` as for ServiceRequest. An update
(PUT, or PATCH: a JSON Patch or a merge patch as fhirpy sends) reads the
Task as the caller may (one audited read), applies the change to it, and
turns the change of ``status`` (or of ``owner``) into the one action of the
workflow it means, which decides for the caller's side and audits the write:

- requested → accepted: ``claim`` (a pool member, or the named specialist);
- accepted → on-hold with a ``note``: ``ask_for_more`` (the note is the question);
- → completed with the conclusion (``output`` typed ``conclusion``, or a
  ``note``) and a recommendation (``output`` typed ``recommendation``, a
  code of ``…/CodeSystem/expertise-recommendation``, ``none`` by default):
  ``conclude``; the opinion is filed and its DocumentReference is then an output;
- → cancelled (the requester, with an optional ``note`` as the reason): ``cancel``;
- a new ``owner`` Practitioner while requested or accepted: ``hand_over``;
- draft → requested (the requester): ``submit``.

The requester answering a question is a Communication (``partOf`` the Task),
not a status. A change the caller's side may not make is refused like a
stranger's (404, audited); a change the workflow does not have is a 422,
and a request that moved meanwhile a 409 (or 412 with ``If-Match``). Any
other element changed is not kept, and named in a warning (``created``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.task import Task

from maillage.accounts.models import User
from maillage.expertise import actions
from maillage.expertise.models import Recommendation, Request
from maillage.fhir.created import not_kept, updated
from maillage.fhir.interactions.service_request import (
    PERFORMER_FIELDS,
    REQUESTER_FIELDS,
    SORT_FIELDS,
    opened,
    party_q,
    patient_q,
    peeked,
    reference_parts,
    require_expertise,
    rule_broken,
    searched_requests,
    status_q,
)
from maillage.fhir.mapping.task import (
    CONCLUSION,
    OURS,
    OUTPUT_SYSTEM,
    RECOMMENDATION,
    RECOMMENDATION_SYSTEM,
    task,
)
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.patch import parse_patch
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    all_of,
    general_params,
    ids_q,
    period_q,
    reference_id,
    searchset,
)
from maillage.fhir.validation import load_json, parse
from maillage.fhir.versions import expected_version, stale
from maillage.policy.expertise import RequestNotFound

# --- read and search -------------------------------------------------------------


def read(call: Call) -> FhirResult:
    require_expertise(call.actor, "Task")
    access = opened(call.actor, call.resource_id, "Task")
    return FhirResult(task(access.request))


OWNER_FIELDS = {
    "Practitioner": PERFORMER_FIELDS["Practitioner"],
    "CareTeam": PERFORMER_FIELDS["CareTeam"],
    "Organization": PERFORMER_FIELDS["Organization"],
    "PractitionerRole": PERFORMER_FIELDS["PractitionerRole"],
}
TASK_STATUSES = {fhir: (ours,) for fhir, ours in OURS.items()}
TASK_STATUS_SYSTEM = "http://hl7.org/fhir/task-status"
TASK_SORT_FIELDS = {
    "_lastUpdated": SORT_FIELDS["_lastUpdated"],
    "_id": SORT_FIELDS["_id"],
    "authored-on": SORT_FIELDS["authored"],
}

SEARCH_PARAMS = (
    SearchParam(
        "focus",
        ParamType.REFERENCE,
        "The ServiceRequest it is the workflow of (ServiceRequest/id).",
    ),
    SearchParam(
        "based-on", ParamType.REFERENCE, "The ServiceRequest (ServiceRequest/id), as focus."
    ),
    SearchParam("patient", ParamType.REFERENCE, "The patient (Task.for), as Patient/id or id."),
    SearchParam("subject", ParamType.REFERENCE, "The patient, as Patient/id (as patient)."),
    SearchParam(
        "owner",
        ParamType.REFERENCE,
        "Who holds it: Practitioner/id (the specialist), or CareTeam/<pool id> or "
        "Organization/<team's structure id> for a pool's request nobody took yet.",
    ),
    SearchParam(
        "requester", ParamType.REFERENCE, "Who asked, as Practitioner/id or PractitionerRole/id."
    ),
    SearchParam(
        "status",
        ParamType.TOKEN,
        "draft, requested (waiting), accepted (taken), on-hold (waiting for the requester), "
        "completed (concluded) or cancelled.",
    ),
    SearchParam("authored-on", ParamType.DATE, "When it was sent, with a prefix if needed."),
    *general_params(
        sort=tuple(TASK_SORT_FIELDS),
        include=("Task:focus", "Task:patient", "Task:owner", "Task:requester"),
        revinclude=("Communication:part-of",),
    ),
)


def _focus_q(name: str, value: str) -> Q:
    found = reference_id(name, value, "ServiceRequest")
    return Q(uuid=found) if found is not None else Q(pk__in=[])


def search(call: Call) -> FhirResult:
    query = call.query
    # Checked before the policy: a bad value is the client's mistake, not an access.
    criteria = (
        all_of(query, "focus", lambda v: _focus_q("focus", v))
        & all_of(query, "based-on", lambda v: _focus_q("based-on", v))
        & patient_q(query)
        & all_of(query, "owner", lambda v: party_q("owner", v, OWNER_FIELDS))
        & all_of(query, "requester", lambda v: party_q("requester", v, REQUESTER_FIELDS))
        & status_q(query, TASK_STATUSES, TASK_STATUS_SYSTEM)
        & period_q(query, "authored-on", "submitted_at")
        & ids_q(query)
        & period_q(query, "_lastUpdated", "updated_at")
    )
    accesses, total = searched_requests(call, criteria, "Task", TASK_SORT_FIELDS)
    return searchset(call, [Match(task(a.request)) for a in accesses], total)


# --- update and patch ------------------------------------------------------------


def update(call: Call) -> FhirResult:
    body = load_json(call.request.body)
    parse(Task, body)
    if body.get("id") != call.resource_id:
        raise FhirError.single(
            400,
            _("The resource's id must be the id of the URL (%(id)s).") % {"id": call.resource_id},
            expression="Task.id",
        )
    return _change(call, lambda _current: body)


def patch(call: Call) -> FhirResult:
    patching = parse_patch(call.request.body, call.request.header("content-type"))
    return _change(call, lambda current: patching.apply(current, call.resource_id))


def _change(call: Call, change: Callable[[Json], Json]) -> FhirResult:
    user = call.actor
    require_expertise(user, "Task")
    expected = expected_version(call)
    # One entry per call: the action audits the change; if none follows (no
    # change, or one refused before any action), the opening is audited here.
    opening = peeked(user, call.resource_id, "Task", step="update")
    request = opening.access.request
    try:
        if expected is not None and expected != request.version:
            raise stale(request.version)
        current = task(request)
        wanted = change(current)
        parse(Task, wanted)
        step, used = _plan(user, request, current, wanted)
    except FhirError:
        opening.audit(fhir="Task", step="update", changed=False)
        raise
    if step is None:
        opening.audit(fhir="Task", step="update", changed=False)
    try:
        if step is not None:
            step()
    except RequestNotFound:
        raise FhirError(404) from None
    except actions.ExpertiseRuleBroken as error:
        raise rule_broken(error, PATHS) from None
    request.refresh_from_db()
    return updated(call, task(request), _not_kept(current, wanted, used))


# Where each field of the action's refusals is in the Task.
PATHS = {
    "body": "Task.note",
    "reason": "Task.note",
    "conclusion": "Task.output",
    "recommendation": "Task.output",
    "colleague": "Task.owner",
    # A draft sent: what it lacks is on its ServiceRequest (the focus) or its owner.
    "question": "Task.focus",
    "consent": "Task.focus",
    "pool": "Task.owner",
    "specialist": "Task.owner",
}


def _plan(
    user: User, request: Request, current: Json, wanted: Json
) -> tuple[Callable[[], object] | None, set[str]]:
    """The one action the change means (no change is no action), not yet run; the elements
    it uses. Decided before running, so that a refusal here leaves the opening's entry."""
    before, after = current["status"], wanted.get("status")
    uuid = request.uuid
    if after == before:
        colleague = _new_owner(current, wanted)
        if colleague is None:
            return None, set()
        return partial(actions.hand_over, user, uuid, colleague), {"owner"}
    step: Callable[[], object]
    if before == "draft" and after == "requested":
        step = partial(actions.submit, user, uuid)
    elif after == "accepted":
        step = partial(actions.claim, user, uuid)
    elif after == "on-hold":
        step = partial(actions.ask_for_more, user, uuid, _note(wanted))
    elif after == "completed":
        step = partial(actions.conclude, user, uuid, _conclusion(wanted))
    elif after == "cancelled":
        step = partial(actions.cancel, user, uuid, _note(wanted))
    else:
        raise FhirError.single(
            422,
            _(
                "The workflow does not go from %(before)s to %(after)s: use accepted (take it), "
                "on-hold with a note (ask for more), completed with the conclusion, or cancelled."
            )
            % {"before": before, "after": after},
            code="business-rule",
            expression="Task.status",
        )
    return step, {"status", "note", "output"}


# Elements the server writes itself: sent back as read, they are no change.
_OURS = frozenset({"resourceType", "id", "meta"})


def _not_kept(current: Json, wanted: Json, used: set[str]) -> list[Issue]:
    """A warning for each element the client changed that no action of the workflow took."""
    changed = {
        name
        for name in {*current, *wanted}
        if name not in _OURS and name not in used and current.get(name) != wanted.get(name)
    }
    return [not_kept(f"Task.{name}") for name in sorted(changed)]


def _new_owner(current: Json, wanted: Json) -> str | None:
    """The Practitioner the owner changes to, if it does (a hand-over)."""
    owner = wanted.get("owner")
    if owner == current.get("owner") or not isinstance(owner, dict):
        return None
    kind, found = reference_parts(str(owner.get("reference", "")))
    if kind != "Practitioner":
        raise FhirError.single(
            422,
            _("A request is handed over to a Practitioner of the pool."),
            code="business-rule",
            expression="Task.owner",
        )
    return found


def _note(wanted: Json) -> str:
    """The text of the last note sent (the Task shows none: a note is always new)."""
    notes = wanted.get("note")
    if not isinstance(notes, list):
        return ""
    texts = [str(n.get("text", "")) for n in notes if isinstance(n, dict)]
    return texts[-1] if texts else ""


def _codes(output: Json) -> set[tuple[str, str]]:
    codings = output.get("type", {}).get("coding", [])
    return {(str(c.get("system", "")), str(c.get("code", ""))) for c in codings}


def _conclusion(wanted: Json) -> actions.Conclusion:
    text = ""
    recommendation = str(Recommendation.NONE)
    for output in wanted.get("output") or []:
        codes = _codes(output)
        if (OUTPUT_SYSTEM, CONCLUSION) in codes and output.get("valueString"):
            text = str(output["valueString"])
        elif (OUTPUT_SYSTEM, RECOMMENDATION) in codes:
            codings = output.get("valueCodeableConcept", {}).get("coding", [])
            recommendation = next(
                (
                    str(c.get("code", ""))
                    for c in codings
                    if c.get("system") == RECOMMENDATION_SYSTEM
                ),
                "",
            )
    return actions.Conclusion(text or _note(wanted), recommendation)


_DOCUMENTATION = (
    "The workflow of a tele-expertise request (same id as its ServiceRequest, its focus). "
    "Read and searched by the request's participants, each read audited. PUT or PATCH "
    "drives it: status accepted takes it, on-hold with a note asks for more, completed with "
    f"an output typed conclusion ({OUTPUT_SYSTEM}) concludes (a recommendation output "
    f"from {RECOMMENDATION_SYSTEM}), cancelled (by the requester) cancels, a new owner "
    "Practitioner hands it over; each by the side that may, others get 404. Once "
    "concluded, an output references the opinion's DocumentReference."
)

ROUTES = (
    Route(Interaction.READ, read, "Task", documentation=_DOCUMENTATION),
    Route(Interaction.SEARCH_TYPE, search, "Task", SEARCH_PARAMS, documentation=_DOCUMENTATION),
    Route(Interaction.UPDATE, update, "Task", documentation=_DOCUMENTATION),
    Route(Interaction.PATCH, patch, "Task", documentation=_DOCUMENTATION),
)
