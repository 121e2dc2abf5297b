"""A signed checkpoint handed to an outside witness, and verify_audit --witness."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maillage.audit import checkpoints
from maillage.audit.tests.attacker import fill, put_head, read_head, sql, triggers_dropped

pytestmark = pytest.mark.django_db(transaction=True)


def _export(witness: Path) -> dict[str, object]:
    out = StringIO()
    call_command("export_audit_checkpoint", stdout=out)
    witness.write_text(out.getvalue())
    return json.loads(out.getvalue())


def test_it_prints_a_signed_checkpoint_of_the_head(personas, tmp_path, capsys) -> None:
    entries = fill(personas, 5)
    exported = _export(tmp_path / "witness.jsonl")
    assert exported["seq"] == 5
    assert exported["hash"] == entries[-1].hash
    assert set(exported) == {"seq", "hash", "at", "key_id", "mac"}
    fill(personas, 2)  # the trail goes on after the witness got its copy
    call_command("verify_audit", "--witness", str(tmp_path / "witness.jsonl"))
    assert "fichier témoin concordant" in capsys.readouterr().out


def test_the_witness_finds_a_cut_that_every_local_trace_hides(personas, tmp_path) -> None:
    """He cuts 6-8, puts back the head saved at 5 and deletes the local checkpoints too."""
    fill(personas, 5)
    saved_head = read_head()
    _export(tmp_path / "witness.jsonl")  # now the witness holds seq 5...
    fill(personas, 3)
    _export(tmp_path / "witness.jsonl")  # ...then seq 8
    with triggers_dropped():
        sql("DELETE FROM audit_auditentry WHERE seq > 5")
    put_head(*saved_head)
    checkpoints.checkpoint_file().unlink()
    call_command("verify_audit")  # nothing left here to tell
    with pytest.raises(CommandError, match="rompue à l'entrée n° 6 ") as error:
        call_command("verify_audit", "--witness", str(tmp_path / "witness.jsonl"))
    assert "point de contrôle du témoin atteint une entrée que la base n'a plus" in str(error.value)


def test_a_witness_file_altered_or_not_ours_is_refused(personas, tmp_path) -> None:
    fill(personas, 3)
    exported = _export(tmp_path / "witness.jsonl")
    (tmp_path / "witness.jsonl").write_text(json.dumps({**exported, "seq": 2}) + "\n")
    with pytest.raises(
        CommandError, match=r"Point de contrôle invalide \(.*witness.jsonl, ligne 1"
    ):
        call_command("verify_audit", "--witness", str(tmp_path / "witness.jsonl"))
    with pytest.raises(CommandError, match="Fichier témoin introuvable"):
        call_command("verify_audit", "--witness", str(tmp_path / "missing.jsonl"))


def test_it_never_signs_a_broken_trail(personas) -> None:
    fill(personas, 3)
    with triggers_dropped():
        sql("UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 2")
    with pytest.raises(CommandError, match="aucun point de contrôle n'est délivré"):
        call_command("export_audit_checkpoint", stdout=StringIO())
