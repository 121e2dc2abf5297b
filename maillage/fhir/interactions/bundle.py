"""Batches and transactions: a Bundle posted to the base, each entry answered by its route.

Every entry is dispatched to the same route, parameter checks and handler
as the request on its own (``Router.dispatch_entry``), so each one goes
through the one policy and leaves its own audit entry; nothing here reads
or writes a row.

- A **transaction** is all or nothing: its entries run in one database
  transaction, in the order FHIR prescribes (DELETE, POST, PUT/PATCH, GET),
  creates before the entries that refer to them; the first entry that fails
  undoes everything and its OperationOutcome is the answer. The refusals and
  failures audited on the way are kept (``atomic_keeping_refusals``). One
  asking for a type or method the server lacks is refused before it runs,
  every such entry named.
- A **batch** is independent entries, each answered with its own status.

Each entry's response carries its Location, ETag and Last-Modified, and the
warnings of what it did not keep in ``response.outcome``.

``fullUrl: urn:uuid:…`` (or ``urn:oid:``) names a resource the Bundle
creates: every ``reference`` to it in a later entry is rewritten to the
created resource's ``Type/id``. A reference to a urn the Bundle does not
hold is refused before anything runs.

The import mode (``manage.py import_fhir``) differs in one way: an entry the
API has no route for is not an error but skipped and counted by resource
type, so that the caller reports it, and so is an entry referring to a
skipped one (a Synthea Observation naming its Encounter); a resource that
already exists (a check the caller provides) is not created again.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import http
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.utils.translation import gettext as _

from maillage.audit.actions import atomic_keeping_refusals
from maillage.fhir.created import preference
from maillage.fhir.outcome import FhirError, Issue, fhir_json_bytes, operation_outcome
from maillage.fhir.result import FhirResult, Json
from maillage.fhir.router import Call, FhirRequest, Interaction, Route, Router
from maillage.fhir.search import shown
from maillage.fhir.validation import MAX_ISSUES, load_json
from maillage.files import storage

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.fhir.auth import Caller

RESPONSE_TYPES = {"transaction": "transaction-response", "batch": "batch-response"}
# FHIR R4 3.1.0.11.2: the order a transaction's entries are processed in.
ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3}
URN_PREFIXES = ("urn:uuid:", "urn:oid:")
MAX_URL = 2048
# Parameters of one entry's URL, as for a request's query string.
MAX_URL_PARAMS = 100


@dataclass(frozen=True)
class Entry:
    """One entry of a received Bundle, its structure checked."""

    index: int
    method: str
    url: str
    full_url: str = ""
    resource: Json | None = None
    # request.ifNoneExist, ifMatch, ifNoneMatch, ifModifiedSince, as headers.
    conditions: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}]"

    @property
    def resource_type(self) -> str:
        if self.resource is not None and isinstance(self.resource.get("resourceType"), str):
            return str(self.resource["resourceType"])
        return self.url.split("?")[0].split("/")[0]


@dataclass(frozen=True)
class Bundle:
    type: str  # transaction or batch
    entries: tuple[Entry, ...]


@dataclass
class Answer:
    """How one entry ended: its response element and, when created, what it now is."""

    status: int
    location: str = ""
    etag: str = ""
    last_modified: str = ""
    resource: Json | None = None
    outcome: Json | None = None
    reference: str = ""  # Type/id of the resource it created or found
    skipped: bool = False  # import mode: no route for it
    # Import mode: skipped because it refers to an entry skipped before it.
    dependent: bool = False

    @property
    def failed(self) -> bool:
        return self.status >= 400

    def as_json(self) -> Json:
        response: Json = {"status": status_line(self.status)}
        if self.location:
            response["location"] = self.location
        if self.etag:
            response["etag"] = self.etag
        if self.last_modified:
            response["lastModified"] = self.last_modified
        if self.outcome is not None:
            response["outcome"] = self.outcome
        entry: Json = {"response": response}
        if self.resource is not None:
            entry["resource"] = self.resource
        return entry


@dataclass
class Report:
    """What a Bundle did, by resource type: for the response and for an import's report."""

    bundle: Json
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    # FHIRPaths of what was received and not kept, per resource type.
    not_kept: dict[str, list[str]] = field(default_factory=dict)
    # A batch's entries that failed: "Bundle.entry[i]: status, diagnostics".
    failed: list[str] = field(default_factory=list)


class TransactionFailed(Exception):
    """A transaction entry failed: everything was undone; ``result`` is the answer."""

    def __init__(self, result: FhirResult) -> None:
        super().__init__(f"HTTP {result.status}")
        self.result = result


# A check the import provides: the Type/id of a resource already there, or "".
Existing = Callable[["User", Entry], str]


def status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


# --- Reading the Bundle ------------------------------------------------------------


def _bad(message: str, path: str, code: str = "invalid") -> Issue:
    return Issue(message, code=code, expression=(path,))


def read_bundle(data: Json, base_url: str = "") -> Bundle:
    """The Bundle's type and entries, or a 400 naming every structural problem.

    An entry's url given absolute on this server's base is kept relative to it.
    """
    if data.get("resourceType") != "Bundle":
        raise FhirError.single(
            400,
            _("Post a Bundle of type transaction or batch to the base."),
            code="structure",
            expression="resourceType",
        )
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in RESPONSE_TYPES:
        raise FhirError.single(
            400,
            _("The Bundle type must be transaction or batch, not “%(type)s”.")
            % {"type": shown(str(kind))},
            code="code-invalid",
            expression="Bundle.type",
        )
    raw = data.get("entry", [])
    if not isinstance(raw, list):
        raise FhirError.single(
            400, _("This element must be a list."), code="structure", expression="Bundle.entry"
        )
    limit = settings.MAILLAGE_FHIR_MAX_BUNDLE_ENTRIES
    if len(raw) > limit:
        raise FhirError.single(
            413,
            _("A Bundle may hold at most %(max)s entries; this one holds %(count)s.")
            % {"max": limit, "count": len(raw)},
            code="too-costly",
            expression="Bundle.entry",
        )
    issues: list[Issue] = []
    entries = [
        e for i, item in enumerate(raw) if (e := _entry(i, item, issues, base_url)) is not None
    ]
    issues += _check_full_urls(entries)
    if issues:
        raise FhirError(400, issues[:MAX_ISSUES])
    return Bundle(str(kind), tuple(entries))


def _entry(index: int, item: object, issues: list[Issue], base_url: str) -> Entry | None:
    path = f"Bundle.entry[{index}]"
    if not isinstance(item, dict):
        issues.append(_bad(_("This element must be a JSON object."), path, "structure"))
        return None
    request = item.get("request")
    if not isinstance(request, dict):
        issues.append(
            _bad(
                _("Each entry needs a request with its method and url."),
                f"{path}.request",
                "required",
            )
        )
        return None
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or method not in ORDER:
        issues.append(
            _bad(
                _("The method must be GET, POST, PUT, PATCH or DELETE."),
                f"{path}.request.method",
                "code-invalid",
            )
        )
        return None
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
        issues.append(
            _bad(_("The request needs its url (at most 2048 characters)."), f"{path}.request.url")
        )
        return None
    full_url = item.get("fullUrl", "")
    if not isinstance(full_url, str):
        issues.append(_bad(_("This element must be a string."), f"{path}.fullUrl", "structure"))
        return None
    resource = item.get("resource")
    if resource is not None and not isinstance(resource, dict):
        issues.append(_bad(_("This element must be a JSON object."), f"{path}.resource"))
        return None
    if method in {"POST", "PUT", "PATCH"} and resource is None:
        issues.append(
            _bad(
                _("A %(method)s entry needs its resource.") % {"method": method},
                f"{path}.resource",
                "required",
            )
        )
        return None
    conditions = {
        header: str(request[name])
        for name, header in (
            ("ifNoneExist", "if-none-exist"),
            ("ifMatch", "if-match"),
            ("ifNoneMatch", "if-none-match"),
            ("ifModifiedSince", "if-modified-since"),
        )
        if isinstance(request.get(name), str)
    }
    url = url.strip()
    if base_url and url.startswith(f"{base_url}/"):
        url = url[len(base_url) + 1 :]
    return Entry(index, method, url, full_url.strip(), resource, conditions)


def _check_full_urls(entries: Sequence[Entry]) -> list[Issue]:
    """Each fullUrl once; each urn referred to held by an entry."""
    issues = []
    seen: set[str] = set()
    for entry in entries:
        if entry.full_url and entry.full_url in seen:
            issues.append(
                _bad(
                    _("Two entries have the fullUrl “%(url)s”.") % {"url": shown(entry.full_url)},
                    f"{entry.path}.fullUrl",
                    "duplicate",
                )
            )
        seen.add(entry.full_url)
    for entry in entries:
        for reference in urn_references(entry.resource):
            if reference not in seen:
                issues.append(
                    _bad(
                        _(
                            "The reference “%(reference)s” names no entry of this Bundle "
                            "(no entry has it as fullUrl)."
                        )
                        % {"reference": shown(reference)},
                        f"{entry.path}.resource",
                        "not-found",
                    )
                )
    return issues


def _reference_holders(value: object) -> Iterator[dict[str, Any]]:
    """Every JSON object holding a string ``reference``, iteratively (any depth)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("reference"), str):
                yield item
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def urn_references(resource: Json | None) -> set[str]:
    return {
        holder["reference"]
        for holder in _reference_holders(resource)
        if holder["reference"].startswith(URN_PREFIXES)
    }


def rewrite_references(resource: Json, created: Mapping[str, str]) -> None:
    """Point references to urns of this Bundle at what those entries created (in place)."""
    for holder in _reference_holders(resource):
        target = created.get(holder["reference"])
        if target:
            holder["reference"] = target


def processing_order(entries: Sequence[Entry]) -> list[Entry]:
    """DELETE, POST, PUT/PATCH, GET; a POST after the POSTs it refers to, else as sent."""
    by_urn = {e.full_url: e.index for e in entries if e.method == "POST" and e.full_url}
    posts = {e.index: e for e in entries if e.method == "POST"}
    needs = {
        i: {by_urn[r] for r in urn_references(e.resource) if r in by_urn} - {i}
        for i, e in posts.items()
    }
    needed_by: dict[int, list[int]] = {i: [] for i in posts}
    for i, wanted in needs.items():
        for j in wanted:
            needed_by[j].append(i)
    ready = [i for i, wanted in needs.items() if not wanted]
    heapq.heapify(ready)
    ordered_posts = []
    while ready:
        i = heapq.heappop(ready)
        ordered_posts.append(posts[i])
        for k in needed_by[i]:
            needs[k].discard(i)
            if not needs[k]:
                heapq.heappush(ready, k)
    if len(ordered_posts) < len(posts):
        cycle = sorted(i for i, wanted in needs.items() if wanted)
        raise FhirError.single(
            400,
            _("These entries refer to each other in a cycle: %(entries)s.")
            % {"entries": ", ".join(f"Bundle.entry[{i}]" for i in cycle[:20])},
            code="invalid",
            expression="Bundle.entry",
        )
    others = sorted((e for e in entries if e.method != "POST"), key=lambda e: ORDER[e.method])
    return (
        [e for e in others if e.method == "DELETE"]
        + ordered_posts
        + [e for e in others if e.method != "DELETE"]
    )


# --- Running the entries -------------------------------------------------------------


def _entry_target(entry: Entry, base_url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The path below the base and the parameters of an entry's url."""
    url = entry.url
    if "://" in url:
        if not url.startswith(f"{base_url}/"):
            raise FhirError.single(
                400,
                _("The url of this entry is not on this server: give it relative to the base."),
                expression=f"{entry.path}.request.url",
            )
        url = url[len(base_url) + 1 :]
    path, _sep, query_string = url.partition("?")
    try:
        query = parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_URL_PARAMS)
    except ValueError:
        raise FhirError.single(
            400,
            _("The url of this entry has too many parameters."),
            expression=f"{entry.path}.request.url",
        ) from None
    return path, tuple(query)


def _entry_body(entry: Entry) -> tuple[bytes, str]:
    """The body and its media type: the resource, or a PATCH's Binary content."""
    resource = entry.resource
    if resource is None:
        return b"", ""
    if entry.method == "PATCH" and resource.get("resourceType") == "Binary":
        try:
            data = base64.b64decode(str(resource.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise FhirError.single(
                400, _("This value is not valid base64."), expression=f"{entry.path}.resource.data"
            ) from None
        return data, str(resource.get("contentType", ""))
    return fhir_json_bytes(resource), "application/fhir+json"


def entry_request(entry: Entry, outer: FhirRequest) -> FhirRequest:
    path, query = _entry_target(entry, outer.base_url)
    body, media_type = _entry_body(entry)
    headers = {"accept": "application/fhir+json", **entry.conditions}
    if media_type:
        headers["content-type"] = media_type
    if outer.header("prefer"):
        headers["prefer"] = outer.header("prefer")
    return FhirRequest(entry.method, path, outer.base_url, query, headers, body)


def _http_date_as_instant(value: str) -> str:
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def answer_of(result: FhirResult, base_url: str) -> Answer:
    """An entry's response element from what its handler answered."""
    headers = {name.lower(): value for name, value in result.headers.items()}
    answer = Answer(
        status=result.status,
        location=headers.get("location", ""),
        etag=headers.get("etag", ""),
        last_modified=_http_date_as_instant(headers.get("last-modified", "")),
    )
    body = result.body
    if result.raw is not None:
        # Binary content is not FHIR JSON; an entry answers with its status only.
        return answer
    if answer.failed or body.get("resourceType") == "OperationOutcome":
        answer.outcome = body
    elif body:
        answer.resource = body
        answer.outcome = result.outcome
    answer.reference = _reference_of(answer.location, body, base_url)
    meta = body.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("lastUpdated"), str):
        answer.last_modified = meta["lastUpdated"]
    return answer


def _reference_of(location: str, body: Json, base_url: str) -> str:
    """Type/id of the resource an entry created or found, from Location or the body."""
    if location:
        parts = location.removeprefix(f"{base_url}/").split("/")
        if len(parts) >= 2:
            return f"{parts[0]}/{parts[1]}"
    if body.get("resourceType") not in (None, "OperationOutcome", "Bundle") and body.get("id"):
        return f"{body['resourceType']}/{body['id']}"
    return ""


@dataclass
class Run:
    """One Bundle being processed for one user."""

    router: Router
    caller: Caller
    request: FhirRequest
    import_mode: bool = False
    existing: Existing | None = None
    created: dict[str, str] = field(default_factory=dict)  # urn -> Type/id
    # Import mode: the urns of the entries skipped, so that what refers to them
    # is skipped too (a Synthea Observation names its Encounter, which is not
    # written here: without it, the reading could not be what was sent).
    skipped: set[str] = field(default_factory=set)

    def answer(self, entry: Entry) -> Answer:
        if self.import_mode:
            skipped = self._skip(entry)
            if skipped is not None:
                if entry.full_url:
                    self.skipped.add(entry.full_url)
                return skipped
        found = self.existing(self.caller.user, entry) if self.existing is not None else ""
        if found:
            answer = Answer(
                status=200, reference=found, location=f"{self.request.base_url}/{found}"
            )
        else:
            if entry.resource is not None:
                rewrite_references(entry.resource, self.created)
            try:
                sub_request = entry_request(entry, self.request)
            except FhirError as error:
                return Answer(status=error.status, outcome=operation_outcome(error.issues))
            answer = answer_of(
                self.router.dispatch_entry(sub_request, self.caller), sub_request.base_url
            )
        if entry.full_url and answer.reference and not answer.failed:
            self.created[entry.full_url] = answer.reference
        return answer

    def _skip(self, entry: Entry) -> Answer | None:
        if not self._has_route(entry):
            return Answer(status=200, skipped=True)
        if urn_references(entry.resource) & self.skipped:
            return Answer(status=200, skipped=True, dependent=True)
        return None

    def _has_route(self, entry: Entry) -> bool:
        return self.not_supported(entry) is None

    def not_supported(self, entry: Entry) -> FhirError | None:
        """Why no route answers the entry's method and URL (a type or method we lack)."""
        path = entry.url.split("?")[0].removeprefix(f"{self.request.base_url}/")
        try:
            self.router.resolve(entry.method, path)
        except FhirError as error:
            if any(issue.code == "not-supported" for issue in error.issues):
                return error
        return None


def process(bundle: Bundle, run: Run) -> Report:
    """Answer every entry; a transaction raises TransactionFailed after undoing all."""
    ordered = processing_order(bundle.entries)
    answers: dict[int, Answer] = {}
    if bundle.type == "transaction":
        if not run.import_mode:
            _refuse_unsupported(bundle, run)
        # Files stored by an entry leave the disk too when the transaction is undone.
        with storage.removed_if_undone(), atomic_keeping_refusals():
            for entry in ordered:
                answer = run.answer(entry)
                if answer.failed:
                    raise TransactionFailed(_failure(entry, answer))
                answers[entry.index] = answer
    else:
        for entry in ordered:
            answers[entry.index] = run.answer(entry)
    return _report(bundle, answers)


def _refuse_unsupported(bundle: Bundle, run: Run) -> None:
    """A transaction asking for what the server does not do is refused before it runs.

    Every such entry is named at once, by method and type (a Synthea bundle
    holds hundreds of Observations), rather than the first one only.
    """
    unsupported = [(e, error) for e in bundle.entries if (error := run.not_supported(e))]
    if not unsupported:
        return
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry, _error in unsupported:
        groups.setdefault((entry.method, entry.resource_type), []).append(entry)
    issues = [
        Issue(
            _(
                "Nothing of the transaction was run: %(count)s of its entries ask for what "
                "this server does not support (with Prefer: handling=lenient they are "
                "skipped and named)."
            )
            % {"count": len(unsupported)},
            code="not-supported",
        ),
        *(
            Issue(
                _("%(method)s %(type)s (count: %(count)s), the first at %(path)s.")
                % {
                    "method": method,
                    "type": shown(resource_type),
                    "count": len(entries),
                    "path": entries[0].path,
                },
                code="not-supported",
                expression=(entries[0].path,),
            )
            for (method, resource_type), entries in list(groups.items())[: MAX_ISSUES - 2]
        ),
    ]
    # The status of the first, with its own diagnostics (its Allow header
    # would speak of its URL, not of the base).
    first = unsupported[0][1]
    issues += first.issues
    raise TransactionFailed(FhirResult(operation_outcome(issues), status=first.status))


def _failure(entry: Entry, answer: Answer) -> FhirResult:
    issues = [
        Issue(
            _("Entry %(index)s (%(method)s %(url)s) failed: nothing of the transaction was kept.")
            % {"index": entry.index, "method": entry.method, "url": shown(entry.url)},
            code="processing",
            expression=(entry.path,),
        )
    ]
    received: list[Json] = list(answer.outcome.get("issue", [])) if answer.outcome else []
    return FhirResult(
        {"resourceType": "OperationOutcome", "issue": [i.as_json() for i in issues] + received},
        status=answer.status,
    )


def _report(bundle: Bundle, answers: Mapping[int, Answer]) -> Report:
    report = Report(bundle={})
    entries = []
    for entry in bundle.entries:
        answer = answers[entry.index]
        if answer.skipped:
            report.skipped[entry.resource_type] += 1
            entries.append(_skipped(entry, answer.dependent))
            continue
        if answer.status == 201:
            report.created[entry.resource_type] += 1
            paths = _warned_paths(answer.outcome)
            if paths:
                report.not_kept.setdefault(entry.resource_type, []).extend(paths)
        elif answer.failed:
            report.failed.append(_failed_line(entry, answer))
        elif entry.method == "POST":
            report.existing[entry.resource_type] += 1
        entries.append(answer.as_json())
    report.bundle = {"resourceType": "Bundle", "type": RESPONSE_TYPES[bundle.type]}
    if entries:
        # Each resource went through its model in its handler; the envelope is
        # not validated again (as for a searchset).
        report.bundle["entry"] = entries
    return report


def _failed_line(entry: Entry, answer: Answer) -> str:
    issues = answer.outcome.get("issue", []) if answer.outcome else []
    said = "; ".join(str(i.get("diagnostics", "")) for i in issues)
    return f"{entry.path} ({entry.method} {entry.resource_type}): {answer.status} {said}".strip()


def _warned_paths(outcome: Json | None) -> list[str]:
    issues = outcome.get("issue", []) if outcome else []
    return [
        str(path)
        for issue in issues
        if issue.get("severity") == "warning"
        for path in issue.get("expression", [])
    ]


def _skipped(entry: Entry, dependent: bool = False) -> Json:
    message = (
        _("Not imported: this %(type)s refers to an entry of the Bundle that was not imported.")
        if dependent
        else _("Not imported: %(type)s resources cannot be written through this server.")
    )
    issue = Issue(
        message % {"type": shown(entry.resource_type)},
        code="not-supported",
        severity="warning",
        expression=(entry.path,),
    )
    return {"response": {"status": status_line(200), "outcome": operation_outcome([issue])}}


# --- The route ---------------------------------------------------------------------


def _as(caller: Caller) -> Callable[[FhirRequest], Caller]:
    return lambda _request: caller


def transaction_or_batch(call: Call) -> FhirResult:
    if call.caller is None:
        raise FhirError(401)
    bundle = read_bundle(load_json(call.request.body), call.request.base_url)
    # "Prefer: handling=lenient" (the FHIR preference for what a server cannot
    # handle): entries of a type or method we have no route for are skipped and
    # each is named in its response's outcome, as import_fhir does, instead of
    # refusing the whole Bundle. Everything else stays all or nothing.
    lenient = preference(call, "handling") == "lenient"
    run = Run(Router(call.routes, _as(call.caller)), call.caller, call.request, import_mode=lenient)
    try:
        report = process(bundle, run)
    except TransactionFailed as failed:
        return failed.result
    return FhirResult(report.bundle)


ROUTES = (
    Route(
        Interaction.TRANSACTION,
        transaction_or_batch,
        documentation=(
            "A Bundle of type transaction (all or nothing, urn:uuid references resolved) or "
            "batch (independent entries); each entry is answered by its own route, through "
            "the same access policy and audit. With Prefer: handling=lenient, entries of a "
            "type or method the server cannot write are skipped, each named in its response."
        ),
    ),
)
