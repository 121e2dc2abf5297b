"""DocumentReference: read, search and create, every one through the record gate.

No Document row is read here before the gate: ``policy.gate.get_document``
(read) and ``open_record_by_id`` + ``visible_documents`` (search) return only
what the user may see, with masks, habilitations and visibility applied, and
write the audit entries, refusals included. ``records.actions.file_document``
is the only writer; it checks the files, opens the record for writing and
checks the habilitation matrix.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from maillage.accounts.models import Role
from maillage.acts.queries import encounters_of
from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.fhir.created import created
from maillage.fhir.interactions.common import PATIENT_PARAM, own_patient_id, searched_patient
from maillage.fhir.mapping.document_input import (
    DocumentInput,
    document_from_fhir,
    inline_data,
)
from maillage.fhir.mapping.document_reference import (
    STATUS_OF,
    DocumentContext,
    document_reference,
    document_version,
    documents_files,
    loinc_of,
)
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    SearchQuery,
    general_params,
    id_test,
    page,
    period_test,
    reference_id,
    searchset,
    shown,
    sorted_rows,
    token,
)
from maillage.fhir.systems import DOCUMENT_TYPE_SYSTEM, LOINC
from maillage.fhir.validation import load_json, parse
from maillage.fhir.versions import Version, history_bundle, requested_version
from maillage.files import storage
from maillage.files.models import StoredFile
from maillage.files.storage import RejectedUpload
from maillage.policy import gate as access
from maillage.policy.gate import DocumentNotFound, PatientNotFound, RecordAccess, load_patient
from maillage.records import actions
from maillage.records.models import Document, DocumentStatus
from maillage.records.queries import previous_versions, replacement_times

STATUS_SYSTEM = "http://hl7.org/fhir/document-reference-status"
OUR_STATUS = {fhir: ours for ours, fhir in STATUS_OF.items()}

SORT_PARAMS = ("date", "_lastUpdated", "_id")

SEARCH_PARAMS = (
    PATIENT_PARAM,
    SearchParam(
        "type",
        ParamType.TOKEN,
        f"The type: a code of {DOCUMENT_TYPE_SYSTEM} or a LOINC code (system|code or code).",
    ),
    SearchParam(
        "status",
        ParamType.TOKEN,
        "current, superseded (replaced by a newer version) or entered-in-error (withdrawn); "
        "without it, current documents only.",
    ),
    SearchParam(
        "subject",
        ParamType.REFERENCE,
        "The patient, as Patient/id or id (the same as patient).",
        single=True,
    ),
    SearchParam(
        "date",
        ParamType.DATE,
        "When the document was filed (DocumentReference.date): YYYY, YYYY-MM, YYYY-MM-DD or a "
        "dateTime, with prefix eq, ne, lt, le, gt or ge.",
    ),
    SearchParam("author", ParamType.REFERENCE, "The author, as Practitioner/id or id."),
    *general_params(
        sort=SORT_PARAMS,
        include=(
            "DocumentReference:subject",
            "DocumentReference:patient",
            "DocumentReference:author",
        ),
    ),
)


def sort_keys(changes: Mapping[int, dt.datetime]) -> dict[str, Callable[[Document], Any]]:
    """_sort keys on documents in memory (the record gate hands over a list)."""
    return {
        "date": lambda d: d.created_at,
        "_lastUpdated": lambda d: changes[d.pk],
        "_id": lambda d: str(d.uuid),
    }


def last_changes(opened: RecordAccess, documents: Sequence[Document]) -> dict[int, dt.datetime]:
    """When each document's resource last changed: its meta.lastUpdated, by the same function."""
    replaced = DocumentContext(
        base_url="",
        patient=opened.patient.uuid,
        masked=frozenset(),
        practitioners={},
        previous={},
        replaced_at=replacement_times(opened, documents),
    )
    return {d.pk: document_version(d, replaced)[1] for d in documents}


# --- read ------------------------------------------------------------------


def read(call: Call) -> FhirResult:
    document, files, ctx = _gated(call)
    return FhirResult(document_reference(document, files, ctx))


def _gated(call: Call) -> tuple[Document, list[StoredFile], DocumentContext]:
    """The document the call names, through the record gate (one audited read)."""
    try:
        document, opened = access.get_document(call.actor, call.resource_id)
    except DocumentNotFound:
        raise FhirError(404) from None
    files = [link.file for link in document.document_files.select_related("file")]
    return document, files, context(call, opened, [document])


# --- vread and history -----------------------------------------------------
# A document's content never changes; its status does, once (replaced or
# withdrawn): version 1 is the document as filed, version 2 after that.


def vread(call: Call) -> FhirResult:
    wanted = requested_version(call)
    document, files, ctx = _gated(call)
    current, _when = document_version(document, ctx)
    if wanted > current:
        raise FhirError.single(404, _("This version does not exist."), code="not-found")
    return FhirResult(document_reference(document, files, ctx, as_filed=wanted < current))


def history(call: Call) -> FhirResult:
    document, files, ctx = _gated(call)
    current, _when = document_version(document, ctx)
    versions = [Version(document_reference(document, files, ctx, as_filed=True), created=True)]
    if current > 1:
        versions.insert(0, Version(document_reference(document, files, ctx), created=False))
    return history_bundle(call, versions)


def context(call: Call, opened: RecordAccess, documents: Sequence[Document]) -> DocumentContext:
    return document_context(call.request.base_url, opened, documents)


def document_context(
    base_url: str, opened: RecordAccess, documents: Sequence[Document]
) -> DocumentContext:
    """What every DocumentReference of a page (or of an export) needs, in two queries."""
    authors = {d.author_id for d in documents}
    practitioners = dict(
        Professional.objects.filter(user_id__in=authors).values_list("user_id", "uuid")
    )
    previous = previous_versions(opened, documents)
    return DocumentContext(
        base_url=base_url,
        patient=opened.patient.uuid,
        masked=opened.state.masked_documents,
        practitioners=practitioners,
        previous=previous,
        replaced_at=replacement_times(opened, documents),
        encounters=encounters_of(opened, documents),
    )


# --- search ----------------------------------------------------------------


def search(call: Call) -> FhirResult:
    query = call.query
    statuses = _statuses(query)
    wanted_type = _type_test(query)
    # Checked before the gate: a bad value is the client's mistake, not an access.
    changed, filed = period_test(query, "_lastUpdated"), period_test(query, "date")
    by_author = _author_test(query)
    patient_id = _searched_record(query)
    if patient_id is None:
        patient_id = _own_record(call)
    try:
        opened = access.open_record_by_id(call.actor, patient_id)
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not open this record."),
            code="not-found",
            expression="patient",
        ) from None
    history = statuses != {DocumentStatus.CURRENT}
    wanted_id = id_test(query)
    candidates = [
        d
        for d in opened.documents(include_history=history)
        if d.status in statuses
        and wanted_type(d)
        and wanted_id(str(d.uuid))
        and filed(d.created_at)
        and by_author(d)
    ]
    changes = last_changes(opened, candidates)
    documents = [d for d in candidates if changed(changes[d.pk])]
    shown_documents, total = page(sorted_rows(documents, query, sort_keys(changes)), query)
    files = documents_files(shown_documents)
    ctx = context(call, opened, shown_documents)
    matches = [Match(document_reference(d, files[d.pk], ctx)) for d in shown_documents]
    return searchset(call, matches, total)


def _searched_record(query: SearchQuery) -> str | None:
    """The patient named by ``patient`` or ``subject`` (they are one parameter)."""
    patient_id = searched_patient(query)
    subject = query.first("subject")
    if subject is None:
        return patient_id
    found = reference_id("subject", subject, "Patient")
    subject_id = str(found) if found is not None else subject
    if patient_id is not None and patient_id != subject_id:
        raise FhirError.single(
            400,
            _("patient and subject name two different patients: give one of them."),
            expression="subject",
        )
    return subject_id


def _author_test(query: SearchQuery) -> Callable[[Document], bool]:
    """AND over occurrences of OR over Practitioner ids, as the authors' user accounts."""
    occurrences = [
        [reference_id("author", value, "Practitioner") for value in alternatives]
        for alternatives in query.occurrences("author")
    ]
    wanted = {u for alternatives in occurrences for u in alternatives if u is not None}
    users = dict(Professional.objects.filter(uuid__in=wanted).values_list("uuid", "user_id"))
    accounts = [
        {users[u] for u in alternatives if u is not None and u in users}
        for alternatives in occurrences
    ]
    return lambda document: all(document.author_id in ids for ids in accounts)


def _own_record(call: Call) -> str:
    user = call.actor
    own = own_patient_id(user) if user.role == Role.PATIENT else None
    if own is None:
        raise FhirError.single(
            400,
            _("Name the patient: patient=Patient/id."),
            code="required",
            expression="patient",
        )
    return str(own)


def _statuses(query: SearchQuery) -> set[str]:
    """Our statuses asked for: AND over occurrences of OR over alternatives."""
    occurrences = query.occurrences("status")
    statuses: set[str] = set(OUR_STATUS.values()) if occurrences else {DocumentStatus.CURRENT}
    for alternatives in occurrences:
        allowed: set[str] = set()
        for value in alternatives:
            wanted = token(value)
            if wanted.system not in (None, STATUS_SYSTEM) or wanted.code not in OUR_STATUS:
                raise FhirError.single(
                    400,
                    _("Unknown status “%(value)s”: use current, superseded or entered-in-error.")
                    % {"value": shown(value)},
                    code="code-invalid",
                    expression="status",
                )
            allowed.add(OUR_STATUS[wanted.code])
        statuses &= allowed
    return statuses


def _matches_type(document: Document, value: str) -> bool:
    """Whether the document has the type a ``type`` value names: ours, or LOINC as returned."""
    wanted = token(value)
    if wanted.system in (None, DOCUMENT_TYPE_SYSTEM) and document.type == wanted.code:
        return True
    loinc = loinc_of(document)
    return wanted.system in (None, LOINC) and loinc is not None and loinc.code == wanted.code


def _type_test(query: SearchQuery) -> Callable[[Document], bool]:
    """AND over occurrences of OR over alternatives."""
    occurrences = query.occurrences("type")
    return lambda document: all(
        any(_matches_type(document, value) for value in alternatives)
        for alternatives in occurrences
    )


# --- create ----------------------------------------------------------------


def create(call: Call) -> FhirResult:
    user = call.actor
    data = load_json(call.request.body)
    inline = inline_data(data)
    received = document_from_fhir(parse(FhirDocumentReference, data), inline)
    _check_files(received.uploads)
    if received.replaces is not None:
        replaced, document = _new_version(call, received, received.replaces)
        return _created(call, document, received, {replaced.pk: replaced.uuid})
    patient = load_patient(received.patient_id)
    try:
        if patient is None:
            # The gate audits the unknown id as it refuses it.
            access.open_record_by_id(user, received.patient_id, Action.DOCUMENT_CREATE)
            raise PatientNotFound
        document = actions.file_document(user, patient, received.new, uploads=received.uploads)
    except PatientNotFound:
        raise FhirError.single(
            404,
            _("No such patient, or you may not add documents to this record."),
            code="not-found",
            expression="DocumentReference.subject",
        ) from None
    except RejectedUpload as error:
        raise FhirError(
            400, [Issue(error.message, expression=("DocumentReference.content",))]
        ) from None
    except actions.RecordRuleBroken as error:
        raise FhirError(403, [Issue(error.message, code="forbidden")]) from None
    return _created(call, document, received, {})


def _created(
    call: Call, document: Document, received: DocumentInput, previous: dict[int, object]
) -> FhirResult:
    files: list[StoredFile] = [link.file for link in document.document_files.select_related("file")]
    ctx = DocumentContext(
        base_url=call.request.base_url,
        patient=received.patient_id,
        masked=frozenset(),
        practitioners=dict(
            Professional.objects.filter(user_id=call.actor.pk).values_list("user_id", "uuid")
        ),
        previous=previous,
    )
    location = f"{call.request.base_url}/DocumentReference/{document.uuid}"
    return created(call, document_reference(document, files, ctx), received.warnings, location)


def _new_version(
    call: Call, received: DocumentInput, replaces: uuid.UUID
) -> tuple[Document, Document]:
    """A new version of a document (relatesTo replaces), by records.actions.replace_document.

    Like the record's page: the document is opened through the record gate
    (an audited read), then the action decides the replacement (author,
    current version, habilitation) and audits it. The old version stays,
    superseded: its version 2 (see vread).
    """
    target = "DocumentReference.relatesTo[0].target"
    try:
        replaced, _opened = access.get_document(call.actor, replaces)
    except DocumentNotFound:
        raise FhirError.single(
            404, _("No such document, or you may not replace it."), "not-found", target
        ) from None
    if replaced.patient.uuid != received.patient_id:
        raise FhirError.single(
            422,
            _("A new version stays in the record of the document it replaces."),
            "business-rule",
            "DocumentReference.subject",
        )
    if replaced.status != DocumentStatus.CURRENT:
        raise FhirError.single(
            409, _("Only the current version of a document can be replaced."), "conflict", target
        )
    try:
        newer = actions.replace_document(call.actor, replaced, received.new, received.uploads)
    except PatientNotFound:
        raise FhirError.single(
            404, _("No such document, or you may not replace it."), "not-found", target
        ) from None
    except RejectedUpload as error:
        raise FhirError(
            400, [Issue(error.message, expression=("DocumentReference.content",))]
        ) from None
    except actions.RecordRuleBroken as error:
        raise FhirError(403, [Issue(error.message, code="forbidden")]) from None
    return replaced, newer


def _check_files(uploads: Sequence[actions.Upload]) -> None:
    """Each file refused with its own message and element, before the gate."""
    issues = []
    for index, upload in enumerate(uploads):
        try:
            storage.check(upload.data, upload.name)
        except RejectedUpload as error:
            path = f"DocumentReference.content[{index}].attachment.data"
            issues.append(Issue(error.message, expression=(path,)))
    if issues:
        raise FhirError(400, issues)


ROUTES = (
    Route(
        Interaction.READ,
        read,
        "DocumentReference",
        documentation=(
            "Through the record gate (care team, médecin traitant, break-the-glass, the patient), "
            "with the patient's masks and the habilitation matrix; a refusal answers 404 and is "
            "audited. Files are read with Binary/<id>."
        ),
    ),
    Route(
        Interaction.VREAD,
        vread,
        "DocumentReference",
        documentation=(
            "Version 1 is the document as filed; version 2, when there is one, the same "
            "document replaced (superseded) or withdrawn (entered-in-error). A new version of "
            "a document's content is another DocumentReference (relatesTo replaces)."
        ),
    ),
    Route(
        Interaction.HISTORY_INSTANCE,
        history,
        "DocumentReference",
        documentation="Through the record gate, as a read.",
    ),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "DocumentReference",
        SEARCH_PARAMS,
        documentation="One patient's record at a time; opening it is audited.",
    ),
    Route(
        Interaction.CREATE,
        create,
        "DocumentReference",
        documentation=(
            "Files a document in the subject's record, authored by the caller; files go inline "
            "in content[].attachment.data (base64) and are checked (type sniffed, no programs). "
            "A new version of a document names it in relatesTo (code replaces): its author "
            "files it, and the replaced one becomes superseded (its version 2)."
        ),
    ),
)
