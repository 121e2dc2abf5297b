"""Binary read: the bytes of a file of the record or of a message, behind their gates.

``Binary/<file id>`` is the ``url`` of each DocumentReference and
Communication attachment. A file attached to a message of a thread the caller
takes part in is served through ``policy.messages.get_attachment_file``
(audited as a read of the thread), one sent with a tele-expertise through
``policy.expertise.attachment_of`` (audited as a read of the request).
A photo, sound or tracing of a Media is served through
``policy.measurements.media_file`` (audited as a read of the readings).
Otherwise it is served only through a
document the caller may see: every document holding it is tried through
``policy.gate.get_document`` (each attempt audited, as a document read)
until one shows it; none, and it is "not found".

As FHIR R4 says of Binary, the content comes in its own media type unless the
FHIR JSON type is asked for explicitly (Accept or _format), in which case a
Binary resource carries it in base64, with ``securityContext`` naming the
document. A file failing its integrity check is never served (409).
"""

from __future__ import annotations

import base64

from django.utils.translation import gettext as _
from fhir.resources.R4B.binary import Binary

from maillage.fhir import negotiation
from maillage.fhir.mapping.common import meta, reference
from maillage.fhir.outcome import FhirError
from maillage.fhir.result import FhirResult, Json, RawContent
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.validation import emit
from maillage.fhir.versions import version_headers
from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.files.responses import content_disposition
from maillage.policy import gate as access
from maillage.policy.expertise import RequestNotFound, attachment_of
from maillage.policy.gate import DocumentNotFound
from maillage.policy.measurements import ReadingNotFound, media_file
from maillage.policy.messages import AttachmentNotFound, get_attachment_file

PRIVATE = {"Cache-Control": "private, no-store"}


def read(call: Call) -> FhirResult:
    context, stored = _gated_file(call)
    request = call.request
    if negotiation.asks_for_fhir(request.header("accept"), request.query):
        negotiation.check_accept(request.header("accept"), request.query)
        data = _read(stored)
        resource = {
            "resourceType": "Binary",
            "id": str(stored.uuid),
            # A stored file never changes: a new version is a new file.
            "meta": meta(stored.created_at),
            "contentType": stored.mime,
            "securityContext": context,
            "data": _base64(data),
        }
        return FhirResult(emit(Binary, resource), headers=PRIVATE)
    if not negotiation.accepts_media_type(request.header("accept"), stored.mime):
        raise FhirError.single(
            406,
            _("This file is %(type)s: accept it, or application/fhir+json for a Binary resource.")
            % {"type": stored.mime},
            code="not-supported",
        )
    data = _read(stored)
    headers = {
        **PRIVATE,
        "Content-Disposition": content_disposition(stored),
        # The same version as the Binary resource's.
        **version_headers({"meta": meta(stored.created_at)}),
    }
    return FhirResult({}, headers=headers, raw=RawContent(data, stored.mime))


def _gated_file(call: Call) -> tuple[Json, StoredFile]:
    """The file and what lets the caller see it (a message, a document); else 404, audited."""
    try:
        attached = get_attachment_file(call.actor, call.resource_id)
    except AttachmentNotFound:
        pass
    else:
        return reference("Communication", attached.message.uuid), attached.file
    try:
        # A file sent with a tele-expertise, for the request's participants.
        request_access, request_file = attachment_of(call.actor, call.resource_id)
    except RequestNotFound:
        pass
    else:
        return reference("ServiceRequest", request_access.request.uuid), request_file
    try:
        # A photo, sound or tracing of the patient's readings.
        held = media_file(call.actor, call.resource_id)
    except ReadingNotFound:
        raise FhirError(404) from None
    if held is not None:
        return reference("Media", held[0].uuid), held[1]
    try:
        document, stored = access.get_document_file(call.actor, call.resource_id)
    except DocumentNotFound:
        raise FhirError(404) from None
    return reference("DocumentReference", document.uuid), stored


def _read(stored: StoredFile) -> bytes:
    try:
        return storage.read(stored)
    except storage.CorruptedFile:
        # storage.read has already logged the failure in the audit trail.
        raise FhirError.single(
            409,
            _(
                "This file failed its integrity check and is not served. The incident is "
                "recorded; ask the author to file the document again."
            ),
            code="processing",
        ) from None


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


ROUTES = (
    Route(
        Interaction.READ,
        read,
        "Binary",
        negotiates=True,
        documentation=(
            "A file of a DocumentReference (its attachment url), served through a document the "
            "caller may see; the content in its own type, or a Binary resource when "
            "application/fhir+json is asked for."
        ),
    ),
)
