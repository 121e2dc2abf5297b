"""FHIR Bulk Data Access v2 ``$export``: kick-off, status, cancel, files.

Kick-off (``GET $export``, ``GET Patient/$export``) needs ``Accept:
application/fhir+json`` and ``Prefer: respond-async``; it takes
``_outputFormat`` (NDJSON only), ``_type`` and ``_since``, and answers 202
with the status URL in ``Content-Location``. Any other parameter of the IG
(``_elements``, ``patient``, ``_typeFilter``, ``includeAssociatedData``,
``organizeOutputBy``) is refused with a 400, never ignored.

Who may export and what an export holds is the policy's (purpose
BULK_EXPORT, ``maillage.policy.exports``): the job decides each patient when
it runs and audits each one exported. The status URL and the files answer
their requester only (bearer token); anyone else gets 404, as for a
resource that does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from urllib.parse import urlencode

from django.utils.http import http_date
from django.utils.translation import gettext as _

from maillage.audit.actions import Event, record
from maillage.audit.models import Action
from maillage.fhir import negotiation
from maillage.fhir.auth import require_scope
from maillage.fhir.bulk import access, storage
from maillage.fhir.bulk.actions import cancel_export, start_export
from maillage.fhir.bulk.build import EXPORTED_TYPES
from maillage.fhir.bulk.models import ExportJob, ExportKind
from maillage.fhir.outcome import FhirError, Issue, operation_outcome
from maillage.fhir.result import FhirResult, Json, RawContent
from maillage.fhir.router import Call, FhirRequest, Interaction, Route
from maillage.fhir.search import shown, split_unescaped
from maillage.files.storage import CorruptedFile
from maillage.policy.gate import NotAllowed, require_purpose
from maillage.tasks.models import WorkStatus

logger = logging.getLogger(__name__)

EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
PATIENT_EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
NDJSON = "application/fhir+ndjson"
# "application/fhir ndjson": the "+" of a query string left unencoded reads as a space.
OUTPUT_FORMATS = frozenset({NDJSON, "application/fhir ndjson", "application/ndjson", "ndjson"})
KICK_OFF_PARAMS = ("_outputFormat", "_type", "_since")
# Jobs pending or running at once for one requester; more get 429.
MAX_ACTIVE_JOBS = 3
RETRY_AFTER_SECONDS = "5"
_MAX_SINCE = 40


def _media_types(header: str) -> set[str]:
    return {part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()}


def _require_headers(request: FhirRequest) -> None:
    issues = []
    if "application/fhir+json" not in _media_types(request.header("accept")):
        issues.append(
            Issue(
                _("A bulk export needs the header Accept: application/fhir+json."),
                code="required",
            )
        )
    prefer = {p.strip().lower() for p in request.header("prefer").replace(";", ",").split(",")}
    if "respond-async" not in prefer:
        issues.append(
            Issue(
                _("A bulk export runs in the background: send the header Prefer: respond-async."),
                code="required",
            )
        )
    if issues:
        raise FhirError(400, issues)


def _values(request: FhirRequest, name: str) -> list[str]:
    return [value for key, value in request.query if key == name]


def _single(request: FhirRequest, name: str) -> str | None:
    values = _values(request, name)
    if len(values) > 1:
        raise FhirError.single(
            400, _("%(name)s may be given only once.") % {"name": name}, expression=name
        )
    return values[0] if values else None


def _types(request: FhirRequest) -> list[str]:
    asked = [
        t.strip()
        for value in _values(request, "_type")
        for t in split_unescaped(value, ",")
        if t.strip()
    ]
    # Each unknown type named once, ten at most: the answer stays small.
    unknown = list(dict.fromkeys(t for t in asked if t not in EXPORTED_TYPES))[:10]
    if unknown:
        raise FhirError(
            400,
            [
                Issue(
                    _(
                        "The resource type %(type)s is not exported by this server; "
                        "it exports: %(types)s."
                    )
                    % {"type": shown(t), "types": ", ".join(EXPORTED_TYPES)},
                    code="not-supported",
                    expression=("_type",),
                )
                for t in unknown
            ],
        )
    return [t for t in EXPORTED_TYPES if t in asked]


def _scoped(call: Call, asked: list[str]) -> list[str]:
    """The types an app's scopes let read, among those asked (all when none was).

    An API token of ours has no scopes: its user's rights only. A type asked
    for that the scopes do not cover is refused (403, audited) as the router
    refuses an interaction outside them; left unasked, it is not exported.
    """
    caller = call.caller
    if caller is None or caller.scopes is None:
        return asked
    for resource_type in asked:
        require_scope(caller, resource_type, Interaction.READ.value)
    allowed = [
        t for t in asked or EXPORTED_TYPES if caller.scopes.allows(t, Interaction.READ.value)
    ]
    if not allowed:
        require_scope(caller, EXPORTED_TYPES[0], Interaction.READ.value)
    return allowed


def _since(request: FhirRequest) -> dt.datetime | None:
    value = _single(request, "_since")
    if value is None:
        return None
    parsed = None
    if len(value) <= _MAX_SINCE and "T" in value:
        try:
            # A "+01:00" left unencoded in the query string arrives as " 01:00".
            parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "+"))
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise FhirError.single(
            400,
            _(
                "_since must be a FHIR instant with its time zone, "
                "such as 2026-12-01T08:00:00Z, not “%(value)s”."
            )
            % {"value": shown(value)},
            expression="_since",
        )
    return parsed


def _check_output_format(request: FhirRequest) -> None:
    value = _single(request, "_outputFormat")
    if value is not None and value.strip().lower() not in OUTPUT_FORMATS:
        raise FhirError.single(
            400,
            _("The output format %(format)s is not supported: this server writes %(ndjson)s.")
            % {"format": shown(value), "ndjson": NDJSON},
            code="not-supported",
            expression="_outputFormat",
        )


def _request_url(request: FhirRequest) -> str:
    url = f"{request.base_url}/{request.path.strip('/')}"
    return f"{url}?{urlencode(request.query)}" if request.query else url


def _kick_off(call: Call, kind: str) -> FhirResult:
    request = call.request
    _require_headers(request)
    _check_output_format(request)
    types = _types(request)
    since = _since(request)
    types = _scoped(call, types)
    user = call.actor
    try:
        require_purpose(user, Action.BULK_EXPORT, {"fhir": "$export"})
    except NotAllowed:
        raise FhirError(403) from None
    if access.active_jobs(user) >= MAX_ACTIVE_JOBS:
        raise FhirError(
            429,
            [
                Issue(
                    _("You already have exports under way: wait for one to finish or cancel it."),
                    code="too-costly",
                )
            ],
            headers={"Retry-After": "60"},
        )
    job = start_export(
        user,
        kind,
        types=types,
        since=since,
        request_url=_request_url(request),
        base_url=request.base_url,
    )
    outcome = operation_outcome(
        [Issue(_("The export has started."), code="informational", severity="information")]
    )
    return FhirResult(outcome, 202, headers={"Content-Location": status_url(job)})


def status_url(job: ExportJob) -> str:
    return f"{job.base_url}/$export-status/{job.uuid}"


def kick_off_system(call: Call) -> FhirResult:
    return _kick_off(call, ExportKind.SYSTEM)


def kick_off_patients(call: Call) -> FhirResult:
    return _kick_off(call, ExportKind.PATIENT)


# --- status and cancel -------------------------------------------------------


def _job(call: Call) -> ExportJob:
    job = access.job_for(call.actor, call.resource_id)
    if job is None:
        raise FhirError(404)
    return job


def manifest(job: ExportJob) -> Json:
    assert job.transaction_time is not None
    return {
        "transactionTime": job.transaction_time.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": f"{job.base_url}/$export-file/{f.uuid}",
                "count": f.count,
            }
            for f in job.files.all()
        ],
        "error": [],
    }


def status(call: Call) -> FhirResult:
    job = _job(call)
    if job.status in {WorkStatus.PENDING, WorkStatus.RUNNING}:
        progress = job.progress or (
            _("queued") if job.status == WorkStatus.PENDING else _("running")
        )
        outcome = operation_outcome(
            [Issue(_("The export is under way."), code="informational", severity="information")]
        )
        return FhirResult(
            outcome,
            202,
            headers={"X-Progress": progress, "Retry-After": RETRY_AFTER_SECONDS},
        )
    if job.status == WorkStatus.FAILED:
        raise FhirError(
            500,
            [Issue(_("The export failed; the incident has been logged."), code="exception")],
        )
    body = json.dumps(manifest(job), ensure_ascii=False).encode()
    headers = {"Expires": http_date(job.expires_at.timestamp())} if job.expires_at else {}
    return FhirResult({}, 200, headers=headers, raw=RawContent(body, "application/json"))


def cancel(call: Call) -> FhirResult:
    job = _job(call)
    cancel_export(call.actor, job)
    outcome = operation_outcome(
        [
            Issue(
                _("The export is cancelled and its files are deleted."),
                code="informational",
                severity="information",
            )
        ]
    )
    return FhirResult(outcome, 202)


# --- files -----------------------------------------------------------------


def download(call: Call) -> FhirResult:
    accept = call.request.header("accept")
    if not any(negotiation.accepts_media_type(accept, t) for t in (NDJSON, "application/ndjson")):
        raise FhirError.single(
            406,
            _("The files of an export are sent as %(ndjson)s only.") % {"ndjson": NDJSON},
            code="not-supported",
        )
    exported = access.file_for(call.actor, call.resource_id)
    if exported is None:
        raise FhirError(404)
    try:
        # Rights are asked again when the data leave, not only when the job ran:
        # a role that may no longer export gets nothing of what was prepared.
        require_purpose(call.actor, Action.BULK_EXPORT, {"fhir": "$export file"})
    except NotAllowed:
        raise FhirError(403) from None
    try:
        data = storage.read(exported)
    except CorruptedFile:
        logger.error("export file %s failed its check", exported.uuid)
        raise FhirError(500) from None
    record(
        call.actor,
        Event(
            action=Action.BULK_EXPORT_FILE,
            detail={
                "job": str(exported.job.uuid),
                "file": str(exported.uuid),
                "type": exported.resource_type,
                "count": exported.count,
            },
        ),
    )
    return FhirResult({}, 200, raw=RawContent(data, NDJSON))


_KICK_OFF_DOC = (
    "Bulk Data Access v2 export, as NDJSON: needs Accept: application/fhir+json and "
    f"Prefer: respond-async; takes _outputFormat, _type ({', '.join(EXPORTED_TYPES)}) and "
    "_since. Holds the patients the token's account may read, each decided by the access "
    "policy and audited, with the documents, readings and media it may read of each and the "
    "devices those name; a patient's token exports herself only."
)

ROUTES = (
    Route(
        Interaction.EXPORT_SYSTEM,
        kick_off_system,
        parameters=KICK_OFF_PARAMS,
        operation="export",
        definition=EXPORT_DEFINITION,
        documentation=_KICK_OFF_DOC,
    ),
    Route(
        Interaction.EXPORT_TYPE,
        kick_off_patients,
        "Patient",
        parameters=KICK_OFF_PARAMS,
        operation="export",
        definition=PATIENT_EXPORT_DEFINITION,
        documentation=_KICK_OFF_DOC,
    ),
    Route(Interaction.EXPORT_STATUS, status),
    Route(Interaction.EXPORT_CANCEL, cancel),
    Route(Interaction.EXPORT_FILE, download, negotiates=True),
)
