"""Run the inbound SMTP gateway: mail for known professionals' MSSanté addresses."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maillage.messaging import gateway


class Command(BaseCommand):
    help = (
        "Listen for incoming secure mail (aiosmtpd) and deliver it into the inboxes of "
        "the professionals whose MSSanté address it is sent to; refuse any other recipient."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--tls-cert", default="", help="certificate chain (PEM) for STARTTLS")
        parser.add_argument("--tls-key", default="", help="private key (PEM) of the certificate")

    def handle(self, *args: Any, **options: Any) -> None:
        cert, key = options["tls_cert"], options["tls_key"]
        if bool(cert) != bool(key):
            raise CommandError("Give both --tls-cert and --tls-key, or neither.")
        tls = gateway.server_tls_context(cert, key) if cert else None
        controller = gateway.listener(options["host"], options["port"], tls)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        controller.start()
        self.stdout.write(
            f"Listening for SMTP on {options['host']}:{options['port']}"
            + (" (STARTTLS required)" if tls else " (no TLS: for a trusted local relay only)")
        )
        try:
            while not stop.wait(1.0):
                pass
        finally:
            controller.stop()
            self.stdout.write("Stopped.")
