"""verify_audit finds each way of rewriting the trail, tried as the attacker would.

The attacker owns the database (raw SQL, can drop triggers) but not the audit
key nor the checkpoint directory. Every test commits for real (transactional),
so that checkpoints are written after commit as in production.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction

from maillage.audit import checkpoints
from maillage.audit.actions import Event, Problem, record, verify_chain
from maillage.audit.models import Action, AuditEntry
from maillage.audit.tests.attacker import (
    fill,
    insert,
    put_head,
    read_head,
    sql,
    triggers_dropped,
    unkeyed_link,
)
from maillage.lib.hashchain import head_mac, link_mac

pytestmark = pytest.mark.django_db(transaction=True)


def _fails_at(seq: int, why: str) -> None:
    with pytest.raises(CommandError, match=f"rompue à l'entrée n° {seq} ") as error:
        call_command("verify_audit")
    assert why in str(error.value)


def _stolen_key() -> tuple[str, bytes]:
    """Only for the attacker who also stole the key file."""
    import base64

    stored = json.loads(Path(settings.MAILLAGE_AUDIT_KEY_FILE).read_text())
    return stored["current"], base64.b64decode(stored["keys"][stored["current"]])


def test_it_reports_an_intact_chain_and_its_checkpoints(personas, capsys) -> None:
    fill(personas)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Chaîne d'audit intacte : 12 entrées vérifiées, 12 points de contrôle" in out
    assert AuditEntry.objects.filter(key_id="").count() == 0


def test_rolled_back_entries_are_never_checkpointed(personas) -> None:
    fill(personas, 2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(personas.treating_doctor.user, Event(action=Action.PATIENT_READ))
        raise RuntimeError("the request fails after the entry")
    lines = checkpoints.checkpoint_file().read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]
    assert verify_chain().intact


def test_it_finds_the_last_entries_cut_and_the_head_moved_back(personas) -> None:
    """He deletes 10-12 and puts back the head as it was (signed) when 9 was the last."""
    fill(personas, 9)
    saved_head = read_head()
    fill(personas, 3)
    with triggers_dropped():
        sql("DELETE FROM audit_auditentry WHERE seq > 9")
    put_head(*saved_head)
    assert AuditEntry.objects.count() == 9
    _fails_at(10, "point de contrôle hors base atteint une entrée que la base n'a plus")
    assert verify_chain().problem == Problem.SHORT


def test_it_finds_the_last_entries_cut_and_the_head_moved_by_hand(personas) -> None:
    entries = fill(personas)
    with triggers_dropped():
        sql("DELETE FROM audit_auditentry WHERE seq > 9")
    key_id, mac = read_head()[2:]
    put_head(9, entries[8].hash, key_id, mac)  # he cannot sign it
    _fails_at(10, "entrées supprimées à la fin")


def test_it_finds_a_forged_entry_inserted_with_its_hash_recomputed(personas) -> None:
    entries = fill(personas)
    last = AuditEntry.objects.get(seq=12)
    forged = AuditEntry.objects.get(seq=12)
    forged.seq, forged.outcome, forged.prev_hash = 13, "denied", last.hash
    forged.detail = {"rule": "opposition"}  # a refusal that never happened
    forged.hash = unkeyed_link(last.hash, forged.payload())
    insert(forged)
    put_head(13, forged.hash, *read_head()[2:])
    assert len(entries) == 12 and AuditEntry.objects.count() == 13
    _fails_at(13, "son sceau (HMAC) ou son lien ne tient pas")


def test_it_finds_a_forged_entry_under_a_key_he_made_up(personas) -> None:
    fill(personas)
    last = AuditEntry.objects.get(seq=12)
    forged = AuditEntry.objects.get(seq=12)
    forged.seq, forged.prev_hash = 13, last.hash
    forged.hash = link_mac(b"g" * 32, last.key_id, last.hash, forged.payload())
    insert(forged)
    put_head(13, forged.hash, last.key_id, head_mac(b"g" * 32, last.key_id, 13, forged.hash))
    _fails_at(13, "son sceau (HMAC) ou son lien ne tient pas")


def _rechain_from_10(key_id: str, link: Callable[[str, dict[str, object]], str]) -> str:
    """Rewrite entry 10 and recompute every link after it, then the head's place."""
    with triggers_dropped():
        sql("UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 10")
        previous = AuditEntry.objects.get(seq=9).hash
        for entry in AuditEntry.objects.filter(seq__gte=10).order_by("seq"):
            new = link(previous, entry.payload())
            sql(
                "UPDATE audit_auditentry SET prev_hash = %s, hash = %s, key_id = %s WHERE seq = %s",
                [previous, new, key_id, entry.seq],
            )
            previous = new
    return previous


def test_it_finds_entry_10_rewritten_and_everything_after_rechained(personas) -> None:
    fill(personas)
    key_id = AuditEntry.objects.get(seq=10).key_id
    last = _rechain_from_10(key_id, unkeyed_link)
    put_head(12, last, *read_head()[2:])
    _fails_at(10, "chaîne recalculée")


def test_even_with_the_stolen_key_a_rechained_trail_disagrees_with_the_checkpoints(
    personas,
) -> None:
    fill(personas)
    key_id, key = _stolen_key()
    last = _rechain_from_10(
        key_id, lambda previous, payload: link_mac(key, key_id, previous, payload)
    )
    put_head(12, last, key_id, head_mac(key, key_id, 12, last))
    _fails_at(10, "un point de contrôle hors base attend une autre empreinte")
    assert verify_chain().problem == Problem.CHECKPOINT


def test_it_finds_a_forged_head(personas) -> None:
    entries = fill(personas)
    key_id, mac = read_head()[2:]
    put_head(12, entries[-1].hash, key_id, "0" * 64)  # the right place, a made-up signature
    _fails_at(13, "la tête de chaîne est falsifiée")
    put_head(9, entries[8].hash, key_id, mac)  # moved back, nothing deleted
    _fails_at(10, "la tête de chaîne est falsifiée ou ne désigne pas la dernière entrée")


def test_it_finds_a_checkpoint_line_rewritten(personas) -> None:
    fill(personas, 3)
    path = checkpoints.checkpoint_file()
    lines = path.read_text().splitlines()
    second = json.loads(lines[1])
    second["hash"] = AuditEntry.objects.get(seq=1).hash
    lines[1] = json.dumps(second)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match=r"Point de contrôle invalide \(.*, ligne 2\)"):
        call_command("verify_audit")


def test_concurrent_writers_keep_one_chain(personas) -> None:
    user = personas.treating_doctor.user
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(15):
                record(user, Event(action=Action.PATIENT_READ, patient=personas.patient))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.intact
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(
        range(1, report.entries + 1)
    )
    assert report.entries == 60
    assert report.pending == 0
    # One checkpoint per chaining commit: a batch when writers overlap (group commit).
    assert 1 <= report.checkpoints <= report.entries
    lines = checkpoints.checkpoint_file().read_text().splitlines()
    # Lines of concurrent chainers may land in any order; the latest pins the last entry.
    assert max(json.loads(line)["seq"] for line in lines) == 60
