"""Document of the shared record to FHIR DocumentReference; the type codes both ways.

Types are coded twice: LOINC, the code a client sent exactly as sent (any
LOINC code, STANDARDS.md), else where a code fits our type, taken from the
ANS value set of document types (JDV_J07_XdsTypeCode_CISIS, the one the
CI-SIS and the DMP bind typeCode to); and always our own code system, which
says exactly which of our types it is. Visibility travels in ``securityLabel`` with the ANS
codes of TRE_A07: MASQUE_PS when the patient masked it (a Consent, read from
the record's state), INVISIBLE_PATIENT and INVISIBLE_REPRESENTANTS_LEGAUX as
the author set them.

Files are described, not read: ``Attachment.hash`` is a SHA-1 by definition
and we keep a SHA-256 (checked on every read), which goes in an extension;
the bytes are served by ``Binary/<file id>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fhir.resources.R4B.documentreference import DocumentReference

from maillage.fhir.mapping.common import coding, meta, reference
from maillage.fhir.result import Json
from maillage.fhir.systems import (
    DOCUMENT_TYPE_SYSTEM,
    LOINC,
    SHA256_EXTENSION,
    VISIBILITY_SYSTEM,
)
from maillage.fhir.validation import emit
from maillage.records.models import Document, DocumentStatus, DocumentType

if TYPE_CHECKING:
    from maillage.files.models import StoredFile


@dataclass(frozen=True)
class Loinc:
    code: str
    display: str  # as JDV_J07 words it (French), or LOINC's own name outside J07


# 85208-7 is the code of the CI-SIS telemedicine act report (TLM-CR), for a
# teleconsultation and a tele-expertise alike; 11524-6 (EKG study) is not in
# J07 but is LOINC's code for an ECG; a sound recording and "other" have none.
LOINC_OF_TYPE: Mapping[str, Loinc] = {
    DocumentType.TELECONSULTATION_REPORT: Loinc("85208-7", "CR de télémédecine"),
    DocumentType.TELEEXPERTISE_OPINION: Loinc("85208-7", "CR de télémédecine"),
    DocumentType.PRESCRIPTION: Loinc("57833-6", "Prescription de produits de santé"),
    DocumentType.LAB_RESULTS: Loinc("11502-2", "CR d'examens biologiques"),
    DocumentType.IMAGING_REPORT: Loinc("18748-4", "CR d'imagerie médicale"),
    DocumentType.LIAISON_LETTER: Loinc("34133-9", "Synthèse d'épisode de soins"),
    DocumentType.EMERGENCY_LIAISON: Loinc("74207-2", "Document de liaison d'urgence"),
    DocumentType.PHOTO: Loinc("52040-3", "Document encapsulant une image d'illustration non DICOM"),
    DocumentType.ECG: Loinc("11524-6", "EKG study"),
}

# Received LOINC codes that name one of our types; a code shared by two types
# (85208-7) is left out: without our own coding to say which, the document is
# unclassified (maillage.fhir.mapping.document_input).
_SENT = [(loinc.code, doc_type) for doc_type, loinc in LOINC_OF_TYPE.items()]
TYPE_OF_LOINC: Mapping[str, str] = {
    code: doc_type for code, doc_type in _SENT if [c for c, _t in _SENT].count(code) == 1
} | {
    # The two J07 codes of a lettre de liaison, at the entry in and the exit
    # from an establishment, are liaison letters here too.
    "11490-0": DocumentType.LIAISON_LETTER,
    "18761-7": DocumentType.LIAISON_LETTER,
}

STATUS_OF = {
    DocumentStatus.CURRENT: "current",
    DocumentStatus.REPLACED: "superseded",
    DocumentStatus.WITHDRAWN: "entered-in-error",
}

# TRE_A07 codes and their displays in the ANS code system.
MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_LEGAL_REPRESENTATIVES = "INVISIBLE_REPRESENTANTS_LEGAUX"
VISIBILITY_DISPLAY = {
    MASQUE_PS: "Masqué aux professionnels de santé",
    INVISIBLE_PATIENT: "Non visible par le patient",
    INVISIBLE_LEGAL_REPRESENTATIVES: "Non visible par représentants légaux du patient",
}


def loinc_of(document: Document) -> Loinc | None:
    """The LOINC type of a document: the code a client sent, as sent, else our type's."""
    if document.loinc_code:
        return Loinc(document.loinc_code, document.loinc_display)
    return LOINC_OF_TYPE.get(document.type)


def type_concept(doc_type: str, loinc: Loinc | None = None) -> Json:
    codings = []
    if loinc is not None:
        codings.append(coding(LOINC, loinc.code, loinc.display))
    label = str(DocumentType(doc_type).label)
    codings.append(coding(DOCUMENT_TYPE_SYSTEM, doc_type, label))
    return {"coding": codings, "text": label}


def _label(code: str) -> Json:
    return {"coding": [coding(VISIBILITY_SYSTEM, code, VISIBILITY_DISPLAY[code])]}


def security_labels(document: Document, *, masked: bool) -> list[Json]:
    codes = []
    if masked:
        codes.append(MASQUE_PS)
    if document.hidden_from_patient:
        codes.append(INVISIBLE_PATIENT)
    if document.hidden_from_legal_representatives:
        codes.append(INVISIBLE_LEGAL_REPRESENTATIVES)
    return [_label(code) for code in codes]


def binary_url(base_url: str, stored: StoredFile) -> str:
    return f"{base_url}/Binary/{stored.uuid}"


def attachment(stored: StoredFile, base_url: str) -> Json:
    sha256 = base64.b64encode(bytes.fromhex(stored.sha256)).decode("ascii")
    return {
        "extension": [{"url": SHA256_EXTENSION, "valueBase64Binary": sha256}],
        "contentType": stored.mime,
        "url": binary_url(base_url, stored),
        "size": stored.size,
        "title": stored.original_name,
        "creation": stored.created_at.isoformat(),
    }


def _author(document: Document, practitioners: Mapping[int, object]) -> Json:
    practitioner = practitioners.get(document.author_id)
    if practitioner is not None:
        return reference("Practitioner", practitioner, document.author_label)
    return {"display": document.author_label}


@dataclass(frozen=True)
class DocumentContext:
    """What the mapper needs besides the document, read once for a page."""

    base_url: str
    patient: uuid.UUID  # public id of the record's patient
    masked: frozenset[int]  # Document pks the patient masked (MASQUE_PS)
    practitioners: Mapping[int, object]  # author user pk -> Practitioner id
    previous: Mapping[int, object]  # replaced Document pk -> its public id
    # Replaced Document pk -> when the newer version replaced it.
    replaced_at: Mapping[int, dt.datetime] = field(default_factory=dict)
    # Document pk -> the teleconsultation (Encounter) it reports on (maillage.acts).
    encounters: Mapping[int, object] = field(default_factory=dict)


def _context(document: Document, context: DocumentContext) -> Json:
    """The period of the act; the teleconsultation it reports on, as its Encounter."""
    out: Json = {"period": {"start": document.date.isoformat()}}
    encounter = context.encounters.get(document.pk)
    if encounter is not None:
        out["encounter"] = [reference("Encounter", encounter)]
    return out


def document_version(document: Document, context: DocumentContext) -> tuple[int, dt.datetime]:
    """The version of a document's resource and when it was written.

    A document's content never changes (a new version is a new document);
    its status does, once: version 1 is the document as filed, version 2 the
    same document replaced (superseded) or withdrawn (entered-in-error).
    """
    if document.status == DocumentStatus.CURRENT:
        return 1, document.created_at
    if document.status == DocumentStatus.WITHDRAWN:
        return 2, document.withdrawn_at or document.created_at
    return 2, context.replaced_at.get(document.pk, document.created_at)


def document_reference(
    document: Document,
    files: Sequence[StoredFile],
    context: DocumentContext,
    *,
    as_filed: bool = False,
) -> Json:
    """The DocumentReference; ``document`` must come from the record gate.

    ``as_filed``: its first version, before it was replaced or withdrawn.
    """
    version, last_updated = document_version(document, context)
    status = STATUS_OF[DocumentStatus(document.status)]
    if as_filed:
        version, last_updated, status = 1, document.created_at, "current"
    data: Json = {
        "resourceType": "DocumentReference",
        "id": str(document.uuid),
        "meta": meta(last_updated, version),
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document.uuid}"},
        "status": status,
        "docStatus": "final",
        "type": type_concept(document.type, loinc_of(document)),
        "subject": reference("Patient", context.patient),
        "date": document.created_at.isoformat(),
        "author": [_author(document, context.practitioners)],
        "description": document.title,
        "securityLabel": security_labels(document, masked=document.pk in context.masked),
        "content": [{"attachment": attachment(f, context.base_url)} for f in files],
        "context": _context(document, context),
    }
    if document.replaces_id is not None and document.replaces_id in context.previous:
        data["relatesTo"] = [
            {
                "code": "replaces",
                "target": reference("DocumentReference", context.previous[document.replaces_id]),
            }
        ]
    return emit(DocumentReference, data)


def documents_files(documents: Iterable[Document]) -> dict[int, list[StoredFile]]:
    """The files of documents whose ``document_files__file`` are prefetched or loaded."""
    return {d.pk: [link.file for link in d.document_files.all()] for d in documents}
