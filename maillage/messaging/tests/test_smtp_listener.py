"""manage.py smtp_listener: its options."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


def test_it_wants_both_the_certificate_and_its_key() -> None:
    with pytest.raises(CommandError):
        call_command("smtp_listener", "--tls-cert", "/etc/maillage/smtp.pem")
