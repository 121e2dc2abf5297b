"""A framework-free router for the FHIR REST interactions.

Each route is data: an interaction, a resource type, its search parameters
and the small function that answers it. The same routes drive dispatching
and the CapabilityStatement, so what the server says it does is what it does.

A handler gets a ``Call`` (who asks, for what) and returns a ``FhirResult``
or raises ``FhirError``; the router turns every error into an
OperationOutcome. The checks every interaction shares (method, Accept,
authentication, Content-Type, parameters) run here, in that order, before
any handler.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils.translation import gettext as _

from maillage.fhir import negotiation
from maillage.fhir.auth import require_scope
from maillage.fhir.outcome import FhirError, Issue, operation_outcome
from maillage.fhir.result import FhirResult
from maillage.fhir.search import (
    SearchParam,
    SearchQuery,
    parse_search,
    reject_parameters,
    shown,
)
from maillage.fhir.versions import (
    NOT_MODIFIED_TYPES,
    check_patch_type,
    not_modified,
    with_version_headers,
)

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.fhir.auth import Caller


class Interaction(enum.StrEnum):
    """The RESTful interactions we implement (FHIR names)."""

    CAPABILITIES = "capabilities"
    READ = "read"
    SEARCH_TYPE = "search-type"
    CREATE = "create"
    # A Bundle of type transaction or batch posted to the base (FHIR's
    # system-level "transaction" and "batch"; one route answers both).
    TRANSACTION = "transaction"
    # FHIR Bulk Data Access v2: the $export kick-offs, the status URL and the files.
    EXPORT_SYSTEM = "export-system"
    EXPORT_TYPE = "export-type"
    EXPORT_STATUS = "export-status"
    EXPORT_CANCEL = "export-cancel"
    EXPORT_FILE = "export-file"
    VREAD = "vread"
    HISTORY_INSTANCE = "history-instance"
    UPDATE = "update"
    PATCH = "patch"


# FHIR R4 id datatype.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_TYPE = "{type}"
_ID = "{id}"
_VID = "{vid}"
HISTORY = "_history"

# Method and path shape of each interaction, below the base URL.
SHAPES: Mapping[Interaction, tuple[str, tuple[str, ...]]] = {
    Interaction.CAPABILITIES: ("GET", ("metadata",)),
    Interaction.READ: ("GET", (_TYPE, _ID)),
    Interaction.SEARCH_TYPE: ("GET", (_TYPE,)),
    Interaction.CREATE: ("POST", (_TYPE,)),
    Interaction.TRANSACTION: ("POST", ()),
    Interaction.EXPORT_SYSTEM: ("GET", ("$export",)),
    Interaction.EXPORT_TYPE: ("GET", (_TYPE, "$export")),
    Interaction.EXPORT_STATUS: ("GET", ("$export-status", _ID)),
    Interaction.EXPORT_CANCEL: ("DELETE", ("$export-status", _ID)),
    Interaction.EXPORT_FILE: ("GET", ("$export-file", _ID)),
    Interaction.VREAD: ("GET", (_TYPE, _ID, HISTORY, _VID)),
    Interaction.HISTORY_INSTANCE: ("GET", (_TYPE, _ID, HISTORY)),
    Interaction.UPDATE: ("PUT", (_TYPE, _ID)),
    Interaction.PATCH: ("PATCH", (_TYPE, _ID)),
}
# Interactions that are not RESTful interactions of FHIR: the CapabilityStatement
# lists the operations among them (``Route.operation``) and leaves the rest out.
NOT_RESTFUL = frozenset(
    {
        Interaction.EXPORT_SYSTEM,
        Interaction.EXPORT_TYPE,
        Interaction.EXPORT_STATUS,
        Interaction.EXPORT_CANCEL,
        Interaction.EXPORT_FILE,
    }
)
# Interactions answering with one resource: its version goes into ETag and
# Last-Modified (maillage.fhir.versions).
VERSIONED = frozenset(
    {
        Interaction.READ,
        Interaction.VREAD,
        Interaction.CREATE,
        Interaction.UPDATE,
        Interaction.PATCH,
    }
)


@dataclass(frozen=True)
class FhirRequest:
    """What came in, without Django: the view builds it, tests may too."""

    method: str
    path: str  # below the base URL, e.g. "Patient/1f0c..."
    base_url: str  # absolute, without a trailing slash
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class Call:
    """One interaction being answered: the handler's only argument."""

    request: FhirRequest
    route: Route
    routes: tuple[Route, ...]
    user: User | None = None
    resource_id: str = ""
    search: SearchQuery | None = None
    # The caller with the scopes of an app's token (None on a public route):
    # a handler that dispatches further interactions (a bundle) asks
    # ``maillage.fhir.auth.require_scope`` for each of them.
    caller: Caller | None = None
    version_id: str = ""  # the {vid} of a vread

    @property
    def actor(self) -> User:
        # Only public routes run without a user; a handler asking for one
        # on a public route is a programming error, answered as a refusal.
        if self.user is None:
            raise FhirError(401)
        return self.user

    @property
    def query(self) -> SearchQuery:
        if self.search is None:
            raise FhirError(400)
        return self.search


Handler = Callable[[Call], FhirResult]


@dataclass(frozen=True)
class Route:
    interaction: Interaction
    handler: Handler
    resource_type: str = ""  # empty for system-level interactions
    search_params: tuple[SearchParam, ...] = ()
    profile: str = ""
    documentation: str = ""
    public: bool = False
    # A create that honours If-None-Exist (conditional create).
    conditional: bool = False
    # Answers in the media type of the content it holds unless FHIR JSON is
    # asked for (Binary): the handler negotiates, not the router.
    negotiates: bool = False
    # Parameters a non-search interaction takes (an operation's), besides _format.
    parameters: tuple[str, ...] = ()
    # The operation's name and canonical definition, for the CapabilityStatement.
    operation: str = ""
    definition: str = ""

    @property
    def method(self) -> str:
        return SHAPES[self.interaction][0]

    def match(self, segments: Sequence[str]) -> PathIds | None:
        """The ids the path names if it has this route's shape."""
        shape = SHAPES[self.interaction][1]
        if len(shape) != len(segments):
            return None
        ids: dict[str, str] = {}
        for expected, segment in zip(shape, segments, strict=True):
            if expected == _TYPE:
                if segment != self.resource_type:
                    return None
            elif expected in (_ID, _VID):
                if not FHIR_ID.fullmatch(segment):
                    # Not an id by FHIR's grammar: names no resource (and stays
                    # out of the audit trail, which would store it verbatim).
                    return None
                ids[expected] = segment
            elif expected != segment:
                return None
        return PathIds(ids.get(_ID, ""), ids.get(_VID, ""))


@dataclass(frozen=True)
class PathIds:
    resource_id: str = ""
    version_id: str = ""


Authenticate = Callable[[FhirRequest], "Caller"]


def _start(route: Route) -> tuple[int, str]:
    """The length of the paths a route answers, and the first segment they all have."""
    shape = SHAPES[route.interaction][1]
    if not shape:
        return 0, ""
    return len(shape), route.resource_type if shape[0] == _TYPE else shape[0]


class Router:
    def __init__(self, routes: Sequence[Route], authenticate: Authenticate) -> None:
        self.routes = tuple(routes)
        # A path is only tried against the routes of its length and first
        # segment, in their order: trying all of them cost as much as the
        # rest of the dispatch, and a Patient read still tried 30.
        self._by_start: dict[tuple[int, str], list[Route]] = {}
        for route in self.routes:
            self._by_start.setdefault(_start(route), []).append(route)
        self.authenticate = authenticate
        self.resource_types = frozenset(r.resource_type for r in routes if r.resource_type)

    def dispatch(self, request: FhirRequest) -> FhirResult:
        try:
            return self._dispatch(request)
        except FhirError as error:
            return error_result(error)
        except Http404:
            # The patient gate refuses by raising PatientNotFound (an Http404);
            # handlers catch it, this is the net under them.
            return error_result(FhirError(404))

    def _dispatch(self, request: FhirRequest) -> FhirResult:
        route, ids = self.resolve(request.method, request.path)
        if not route.negotiates:
            negotiation.check_accept(request.header("accept"), request.query)
        caller = None if route.public else self.authenticate(request)
        if caller is not None:
            # The one place an app's scopes are checked, before any handler.
            require_scope(caller, route.resource_type, route.interaction.value)
        if route.method in {"POST", "PUT"}:
            negotiation.check_content_type(request.header("content-type"))
        elif route.method == "PATCH":
            check_patch_type(request.header("content-type"))
        return self._call(route, ids, request, caller)

    def dispatch_entry(self, request: FhirRequest, caller: Caller) -> FhirResult:
        """One entry of a batch or transaction, for the caller already authenticated.

        The same route, scope check, parameter checks and handler as the
        request on its own; Accept and Content-Type are the enclosing
        Bundle's. A Bundle inside a Bundle is not processed.
        """
        try:
            route, ids = self.resolve(request.method, request.path)
            if route.interaction is Interaction.TRANSACTION:
                raise FhirError.single(
                    400,
                    _("A batch or transaction cannot contain another one."),
                    code="not-supported",
                )
            if route.interaction in NOT_RESTFUL:
                # Its status URL travels in a header an entry does not keep.
                raise FhirError.single(
                    400,
                    _("A bulk export is asked for on its own, not in a batch or transaction."),
                    code="not-supported",
                )
            require_scope(caller, route.resource_type, route.interaction.value)
            if route.method == "PATCH":
                # The patch document's type, from the entry's Binary.
                check_patch_type(request.header("content-type"))
            return self._call(route, ids, request, caller)
        except FhirError as error:
            return error_result(error)
        except Http404:
            return error_result(FhirError(404))

    def _call(
        self, route: Route, ids: PathIds, request: FhirRequest, caller: Caller | None
    ) -> FhirResult:
        user = caller.user if caller is not None else None
        search = None
        if route.interaction is Interaction.SEARCH_TYPE:
            search = parse_search(request.query, route.search_params)
        else:
            reject_parameters(request.query, route.parameters)
        call = Call(
            request,
            route,
            self.routes,
            user,
            ids.resource_id,
            search,
            caller,
            version_id=ids.version_id,
        )
        result = route.handler(call)
        if route.interaction in VERSIONED:
            result = with_version_headers(result)
        if (
            route.interaction in {Interaction.READ, Interaction.VREAD}
            and route.resource_type in NOT_MODIFIED_TYPES
        ):
            return not_modified(request.header("if-none-match"), result)
        return result

    def resolve(self, method: str, path: str) -> tuple[Route, PathIds]:
        # The base itself has no segment (a Bundle posted to it).
        segments = path.strip("/").split("/") if path.strip("/") else []
        candidates = self._by_start.get((len(segments), segments[0] if segments else ""), ())
        matching = [(r, ids) for r in candidates if (ids := r.match(segments)) is not None]
        if not matching:
            raise self._unknown_path(segments)
        for route, ids in matching:
            if route.method == method:
                return route, ids
        allowed = ", ".join(sorted({r.method for r, _ in matching}))
        raise FhirError(
            405,
            [
                Issue(
                    _("The method %(method)s is not supported on this URL; use %(allowed)s.")
                    % {"method": method, "allowed": allowed},
                    code="not-supported",
                )
            ],
            headers={"Allow": allowed},
        )

    def _unknown_path(self, segments: Sequence[str]) -> FhirError:
        if not segments:
            return FhirError(404)
        first = segments[0]
        if first and first not in self.resource_types and first[0].isupper():
            return FhirError.single(
                404,
                _("The resource type %(type)s is not supported by this server.")
                % {"type": shown(first)},
                code="not-supported",
            )
        unsupported = self._unsupported(segments)
        if unsupported is not None:
            return unsupported
        return FhirError(404)

    def _unsupported(self, segments: Sequence[str]) -> FhirError | None:
        """501 for an interaction FHIR defines on a URL of ours that no route answers.

        An operation (``$everything``, ``$validate``…), or the history of a
        resource that has none here: the URL is right, the server lacks the
        feature, which is not "not found" (FHIR R4 3.1.0.4.2). Whether the
        resource exists is not looked up: nothing of it is read.
        """
        level = self._level(segments[:-1])
        last = segments[-1]
        if level is not None and _is_operation(last):
            return FhirError.single(
                501,
                _("The operation %(operation)s is not supported by this server.")
                % {"operation": last},
                code="not-supported",
            )
        if "_history" not in segments or not self._is_history(segments):
            return None
        if segments[0] == "_history":
            message = _("The history of the whole server is not supported.")
        else:
            message = _("History and version reads (vread) are not supported for %(type)s.") % {
                "type": segments[0]
            }
        return FhirError.single(501, message, code="not-supported")

    def _level(self, segments: Sequence[str]) -> str | None:
        """ "system", "type" or "instance" when the segments name one of ours, else None."""
        if not segments:
            return "system"
        if segments[0] not in self.resource_types:
            return None
        if len(segments) == 1:
            return "type"
        if len(segments) == 2 and FHIR_ID.fullmatch(segments[1]):
            return "instance"
        return None

    def _is_history(self, segments: Sequence[str]) -> bool:
        """[type[/id]]/_history[/vid], on a type (and id) of ours."""
        index = list(segments).index("_history")
        if self._level(segments[:index]) is None or len(segments) > index + 2:
            return False
        return len(segments) == index + 1 or bool(FHIR_ID.fullmatch(segments[-1]))


# An operation's name: "$" and a FHIR token-like code, checked without a pattern.
_OPERATION_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
)


def _is_operation(segment: str) -> bool:
    name = segment[1:]
    return (
        segment.startswith("$")
        and 0 < len(name) <= 64
        and all(c in _OPERATION_CHARACTERS for c in name)
    )


def error_result(error: FhirError) -> FhirResult:
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="maillage"')
    return FhirResult(operation_outcome(error.issues), error.status, headers)
