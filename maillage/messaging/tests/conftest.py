"""Shared pieces of the messaging tests: sealed files in a temporary place, a PDF,
French text as the catalogue gives it, and a message about the persona patient."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from django.utils import translation

from maillage.messaging import actions
from maillage.messaging.models import Message

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nCourrier de liaison\n%%EOF"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def fr(msgid: str) -> str:
    """What the French screen shows for an English msgid (the msgid itself until translated)."""
    with translation.override("fr"):
        return translation.gettext(msgid)


LIAISON_PDF = actions.Upload("liaison.pdf", PDF)


def send_about_patient(
    personas, *, uploads=(LIAISON_PDF,), body="Plaie du talon à revoir."
) -> Message:
    """The nurse writes to the médecin traitant about the persona patient, with a PDF."""
    return actions.send_message(
        personas.nurse.user,
        actions.Draft(
            subject="Pansement de Mme Girard",
            body=body,
            professionals=[personas.treating_doctor],
            patient_uuid=personas.patient.uuid,
            uploads=list(uploads),
        ),
    )


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made for the test (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
