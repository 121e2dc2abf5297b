"""Audit keys rotate like file keys; entries under an older key still verify."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maillage.audit import keys
from maillage.audit.actions import Problem, verify_chain
from maillage.audit.models import AuditEntry
from maillage.audit.tests.attacker import fill

pytestmark = pytest.mark.django_db(transaction=True)


def _spec(**keys: bytes) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys.items())


def test_entries_under_the_old_file_key_still_verify(personas, capsys) -> None:
    fill(personas, 3)
    call_command("rotate_audit_key")
    assert "Nouvelle clé d'audit courante" in capsys.readouterr().out
    fill(personas, 3)
    key_ids = list(AuditEntry.objects.order_by("seq").values_list("key_id", flat=True))
    assert key_ids[0] == key_ids[2] != key_ids[3] == key_ids[5]
    call_command("verify_audit")
    assert "6 entrées vérifiées, 6 points de contrôle" in capsys.readouterr().out


def test_environment_keys_rotate_and_a_dropped_key_shows(personas, settings) -> None:
    old, new = b"o" * 32, b"n" * 32
    settings.MAILLAGE_AUDIT_KEYS, settings.MAILLAGE_AUDIT_KEY_ID = _spec(a1=old), "a1"
    fill(personas, 2)
    settings.MAILLAGE_AUDIT_KEYS, settings.MAILLAGE_AUDIT_KEY_ID = _spec(a1=old, a2=new), "a2"
    fill(personas, 2)
    assert list(AuditEntry.objects.values_list("key_id", flat=True)) == ["a1", "a1", "a2", "a2"]
    assert verify_chain().intact
    with pytest.raises(CommandError, match="MAILLAGE_AUDIT_KEYS"):
        call_command("rotate_audit_key")
    # Without the old key, its entries can no longer be vouched for.
    settings.MAILLAGE_AUDIT_KEYS = _spec(a2=new)
    report = verify_chain()
    assert (report.first_bad_seq, report.problem) == (1, Problem.LINK)


def test_a_key_made_current_by_another_process_is_taken_when_the_file_is_looked_at_again(
    personas, monkeypatch
) -> None:
    # The file rewritten as another worker's rotate_audit_key would: this
    # process keeps signing with the key it read (still in the ring) until it
    # looks at the file again, then takes the new one; everything verifies.
    monkeypatch.setattr(keys, "_LOOK_AGAIN_SECONDS", 3600.0)  # not yet, however slow the run
    fill(personas, 1)
    path = keys._key_file()
    stored = json.loads(path.read_text())
    stored["keys"]["audit-elsewhere"] = base64.b64encode(b"e" * 32).decode()
    stored["current"] = "audit-elsewhere"
    keys._write_key_file(path, stored)
    fill(personas, 1)
    monkeypatch.setattr(keys, "_LOOK_AGAIN_SECONDS", 0.0)
    fill(personas, 1)
    key_ids = list(AuditEntry.objects.order_by("seq").values_list("key_id", flat=True))
    assert key_ids[0] == key_ids[1] != key_ids[2] == "audit-elsewhere"
    assert verify_chain().intact
