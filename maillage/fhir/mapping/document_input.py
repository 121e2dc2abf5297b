"""A received DocumentReference to what ``records.actions.file_document`` takes.

What is read: the subject (a Patient of ours), the type (our code, or any LOINC
code, kept as sent; see ``_type``), the title (``description``, else the first
attachment's title), the date of the document (``context.period.start``, else
``date``, else today), the visibility the author may set (INVISIBLE_PATIENT,
INVISIBLE_REPRESENTANTS_LEGAUX) and the files, sent inline as base64 in
``content[].attachment.data``. The author is the caller, whatever ``author``
says; links (``attachment.url``) are never fetched. The file type is sniffed
from the bytes by the file store, not taken from ``contentType``.

Every problem is collected before answering, each pointing at its element.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from fhir.resources.R4B.documentreference import DocumentReference

from maillage.fhir.created import not_kept
from maillage.fhir.mapping.document_reference import (
    INVISIBLE_LEGAL_REPRESENTATIVES,
    INVISIBLE_PATIENT,
    MASQUE_PS,
    TYPE_OF_LOINC,
)
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import Json
from maillage.fhir.systems import DOCUMENT_TYPE_SYSTEM, LOINC, VISIBILITY_OID, VISIBILITY_SYSTEM
from maillage.lib.loinc import is_loinc_code
from maillage.records.actions import NewDocument, Upload
from maillage.records.forms import MAX_FILES
from maillage.records.models import DocumentType

MAX_TITLE = 200  # Document.title
MAX_LOINC_DISPLAY = 200  # Document.loinc_display
_PATIENT = re.compile(r"(?:^|/)Patient/(?P<id>[0-9A-Fa-f-]{32,36})$")
_DOCUMENT = re.compile(r"(?:^|/)DocumentReference/(?P<id>[0-9A-Fa-f-]{32,36})$")
_WHITESPACE = re.compile(r"\s+")
VISIBILITY_SYSTEMS = frozenset({VISIBILITY_SYSTEM, VISIBILITY_OID})


@dataclass(frozen=True)
class DocumentInput:
    patient_id: uuid.UUID
    new: NewDocument
    uploads: list[Upload]
    # What was received but not kept (the create succeeds and says so).
    warnings: list[Issue] = field(default_factory=list)
    # The document this one is a new version of (relatesTo replaces).
    replaces: uuid.UUID | None = None


@dataclass
class _Reader:
    issues: list[Issue] = field(default_factory=list)

    warnings: list[Issue] = field(default_factory=list)

    def problem(self, message: str, path: str, code: str = "invalid") -> None:
        self.issues.append(Issue(message, code=code, expression=(path,)))

    def warning(self, message: str, path: str) -> None:
        self.warnings.append(
            Issue(message, code="informational", severity="warning", expression=(path,))
        )

    def dropped(self, path: str) -> None:
        self.warnings.append(not_kept(path))


def inline_data(data: Json) -> dict[int, bytes]:
    """The bytes of each ``content[i].attachment.data``, strictly decoded, or a 400.

    Read from the JSON itself: the R4B model decodes base64 leniently (it
    drops characters it does not know), and a file must arrive whole.
    """
    found: dict[int, bytes] = {}
    issues = []
    content = data.get("content")
    for index, item in enumerate(content if isinstance(content, list) else []):
        value = item.get("attachment", {}).get("data") if isinstance(item, dict) else None
        if not isinstance(value, str):
            continue
        path = f"DocumentReference.content[{index}].attachment.data"
        encoded = _WHITESPACE.sub("", value)
        # Refused from its length, before decoding: the limit holds whatever the body allowed.
        if len(encoded) // 4 * 3 - encoded[-2:].count("=") > settings.MAILLAGE_MAX_UPLOAD_BYTES:
            raise FhirError(413, [Issue(_too_large(), code="too-costly", expression=(path,))])
        try:
            found[index] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            issues.append(Issue(_("The attachment data is not valid base64."), expression=(path,)))
    if issues:
        raise FhirError(400, issues)
    return found


def _too_large() -> str:
    limit_mb = settings.MAILLAGE_MAX_UPLOAD_BYTES // (1024 * 1024)
    return ngettext(
        "The file is larger than %(mb)d MB.", "The file is larger than %(mb)d MB.", limit_mb
    ) % {"mb": limit_mb}


def document_from_fhir(resource: DocumentReference, data: dict[int, bytes]) -> DocumentInput:
    reader = _Reader()
    if resource.status != "current":
        reader.problem(
            _("A new document has the status current."),
            "DocumentReference.status",
            code="business-rule",
        )
    replaces = _replaces(reader, resource)
    patient_id = _subject(reader, resource)
    received_type = _type(reader, resource)
    title = _title(reader, resource)
    date = _date(reader, resource)
    hidden_from_patient, hidden_from_representatives = _visibility(reader, resource)
    uploads = _uploads(reader, resource, data)
    if reader.issues or patient_id is None or received_type is None or date is None:
        raise FhirError(400, reader.issues or [Issue(_("The resource is not valid."))])
    new = NewDocument(
        type=received_type.type,
        loinc_code=received_type.loinc_code,
        loinc_display=received_type.loinc_display,
        title=title,
        date=date,
        hidden_from_patient=hidden_from_patient,
        hidden_from_legal_representatives=hidden_from_representatives,
    )
    return DocumentInput(patient_id, new, uploads, reader.warnings, replaces)


def _replaces(reader: _Reader, resource: DocumentReference) -> uuid.UUID | None:
    """A new version names the one it replaces: one relatesTo, code replaces."""
    relations = resource.relatesTo or []
    if not relations:
        return None
    path = "DocumentReference.relatesTo"
    target = relations[0].target.reference if relations[0].target is not None else None
    match = _DOCUMENT.search(target or "")
    if (
        len(relations) > 1
        or relations[0].code != "replaces"
        or match is None
        or not _is_uuid(match["id"])
    ):
        reader.problem(
            _(
                "Only one relation is supported: code replaces, with the target "
                "DocumentReference/id of the version this one replaces."
            ),
            path,
            code="not-supported",
        )
        return None
    return uuid.UUID(match["id"])


def _subject(reader: _Reader, resource: DocumentReference) -> uuid.UUID | None:
    path = "DocumentReference.subject"
    if resource.subject is None:
        reader.problem(
            _("The patient is required: subject, as a reference Patient/id."), path, "required"
        )
        return None
    match = _PATIENT.search(resource.subject.reference or "")
    if match is not None and _is_uuid(match["id"]):
        return uuid.UUID(match["id"])
    reader.problem(_("The subject must be a reference to a Patient (Patient/id)."), path)
    return None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ReceivedType:
    """Our type of the document, and the LOINC code exactly as the client sent it."""

    type: str
    loinc_code: str = ""
    loinc_display: str = ""


def _type(reader: _Reader, resource: DocumentReference) -> ReceivedType | None:
    """Our type from our own coding, else from the LOINC code; the LOINC code kept as sent.

    Any valid LOINC code is accepted (STANDARDS.md, DMP type codes): one
    that names none of our types, or several of them, files the document as
    UNCLASSIFIED, whose readers the habilitation matrix decides, and says so
    in a warning.
    """
    path = "DocumentReference.type"
    codings = list(resource.type.coding or []) if resource.type is not None else []
    ours = [c.code for c in codings if c.system == DOCUMENT_TYPE_SYSTEM]
    loinc = [(i, c) for i, c in enumerate(codings) if c.system == LOINC]
    kept = {loinc[0][0]} if loinc else set()
    for index, coding in enumerate(codings):
        # Our own coding is rebuilt from the type; any other one is lost.
        if coding.system != DOCUMENT_TYPE_SYSTEM and index not in kept:
            reader.dropped(f"{path}.coding[{index}]")
    code, display = _loinc(reader, path, loinc[0] if loinc else None)
    if ours:
        if ours[0] in DocumentType.values:
            return ReceivedType(str(ours[0]), code, display)
        reader.problem(_unknown_type(), path, "code-invalid")
        return None
    if not loinc:
        reader.problem(_unknown_type(), path, "code-invalid" if codings else "required")
        return None
    if not code:
        return None  # the LOINC code was refused above
    if code in TYPE_OF_LOINC:
        return ReceivedType(str(TYPE_OF_LOINC[code]), code, display)
    reader.warning(
        _(
            "This LOINC code names no type of this server, or several: the document is kept "
            "as unclassified, which only the professions the habilitation matrix names may "
            "read (by default, doctors). Add a coding of %(system)s to classify it."
        )
        % {"system": DOCUMENT_TYPE_SYSTEM},
        path,
    )
    return ReceivedType(DocumentType.UNCLASSIFIED, code, display)


def _loinc(reader: _Reader, path: str, found: tuple[int, Any] | None) -> tuple[str, str]:
    """The first LOINC coding's code and display, checked (shape, check digit, length)."""
    if found is None:
        return "", ""
    index, coding = found
    code = str(coding.code or "").strip()
    if not is_loinc_code(code):
        reader.problem(
            _("This is not a LOINC code: digits, a hyphen and the check digit (11488-4)."),
            f"{path}.coding[{index}].code",
            "code-invalid",
        )
        return "", ""
    display = str(coding.display or "").strip()
    if len(display) > MAX_LOINC_DISPLAY:
        reader.problem(
            _("This text is too long: at most %(max)s characters.") % {"max": MAX_LOINC_DISPLAY},
            f"{path}.coding[{index}].display",
        )
    return code, display


def _unknown_type() -> str:
    return _("The type must be a LOINC code or a code of %(system)s (%(codes)s).") % {
        "system": DOCUMENT_TYPE_SYSTEM,
        "codes": ", ".join(DocumentType.values),
    }


def _title(reader: _Reader, resource: DocumentReference) -> str:
    title = (resource.description or "").strip()
    path = "DocumentReference.description"
    if not title:
        first = resource.content[0].attachment if resource.content else None
        title = ((first.title if first is not None else "") or "").strip()
    if not title:
        reader.problem(_("The title of the document is required (description)."), path, "required")
    elif len(title) > MAX_TITLE:
        reader.problem(
            _("This text is too long: at most %(max)s characters.") % {"max": MAX_TITLE}, path
        )
    return title


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    return None  # a year or a month alone


def _date(reader: _Reader, resource: DocumentReference) -> dt.date | None:
    period = resource.context.period if resource.context is not None else None
    if period is not None and period.start is not None:
        given, path = period.start, "DocumentReference.context.period.start"
    elif resource.date is not None:
        given, path = resource.date, "DocumentReference.date"
    else:
        return timezone.localdate()
    day = _day(given)
    if day is None:
        reader.problem(_("The full date of the document is required (YYYY-MM-DD)."), path)
    elif day > timezone.localdate():
        reader.problem(_("The date of the document is in the future."), path)
    return day


def _visibility(reader: _Reader, resource: DocumentReference) -> tuple[bool, bool]:
    hidden_from_patient = hidden_from_representatives = False
    for index, label in enumerate(resource.securityLabel or []):
        for position, code in enumerate(label.coding or []):
            if code.system not in VISIBILITY_SYSTEMS:
                continue  # e.g. a confidentiality code: not ours to keep
            path = f"DocumentReference.securityLabel[{index}].coding[{position}]"
            if code.code == INVISIBLE_PATIENT:
                hidden_from_patient = True
            elif code.code == INVISIBLE_LEGAL_REPRESENTATIVES:
                hidden_from_representatives = True
            elif code.code == MASQUE_PS:
                reader.problem(
                    _(
                        "Only the patient masks a document from professionals (MASQUE_PS); "
                        "the author may set INVISIBLE_PATIENT or INVISIBLE_REPRESENTANTS_LEGAUX."
                    ),
                    path,
                    "business-rule",
                )
            else:
                reader.problem(
                    _(
                        "Unknown visibility code: use INVISIBLE_PATIENT or "
                        "INVISIBLE_REPRESENTANTS_LEGAUX."
                    ),
                    path,
                    "code-invalid",
                )
    return hidden_from_patient, hidden_from_representatives


def _uploads(reader: _Reader, resource: DocumentReference, data: dict[int, bytes]) -> list[Upload]:
    if len(resource.content) > MAX_FILES:
        reader.problem(
            _("At most %(max)s files per document.") % {"max": MAX_FILES},
            "DocumentReference.content",
        )
        return []
    uploads = []
    for index, content in enumerate(resource.content):
        attachment = content.attachment
        path = f"DocumentReference.content[{index}].attachment"
        if index not in data:
            reader.problem(
                _("Send the file itself in attachment.data (base64): links are not fetched."),
                f"{path}.data",
                "required",
            )
            continue
        raw = data[index]
        if attachment.size is not None and attachment.size != len(raw):
            reader.problem(
                _("The size does not match the data: the file did not arrive whole."),
                f"{path}.size",
            )
        if attachment.hash is not None and attachment.hash != hashlib.sha1(raw).digest():  # noqa: S324
            # FHIR's Attachment.hash is a SHA-1: we check it, we do not rely on it.
            reader.problem(
                _("The hash does not match the data: the file did not arrive whole."),
                f"{path}.hash",
            )
        name = (attachment.title or "").strip() or f"document-{index + 1}"
        uploads.append(Upload(name=name, data=raw))
    return uploads
