from __future__ import annotations

import ssl

import pytest
from aiosmtpd.controller import Controller

from maillage.messaging.tests.conftest import self_signed_certificate
from maillage.tasks.tests.helpers import HoldingRelay
from maillage.testing.ports import free_port

DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
}


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


@pytest.fixture
def relay(tmp_path, settings):
    """A relay over STARTTLS, as production talks to; the settings point our backend at it."""
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = HoldingRelay()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    settings.EMAIL_BACKEND = "maillage.messaging.gateway.RelayEmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.MAILLAGE_SMTP_CA_FILE = str(cert)
    handler.env = {  # type: ignore[attr-defined]
        "MAILLAGE_SMTP_HOST": "127.0.0.1",
        "MAILLAGE_SMTP_PORT": str(port),
        "MAILLAGE_SMTP_CA_FILE": str(cert),
    }
    yield handler
    handler.release.set()
    controller.stop()
