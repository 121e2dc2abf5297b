"""The chain's head, checkpointed outside the database.

After each committed append, one signed line (seq, link, time, key id, HMAC)
is appended to ``checkpoints.log`` in MAILLAGE_AUDIT_CHECKPOINT_DIR. Someone
who rewrites or cuts the trail in the database must also rewrite this file,
on another store (and, for ``export_audit_checkpoint``'s copies, at an outside
witness), to go unseen.

Cost: the line is written with one ``write`` on a descriptor opened with
O_APPEND, so concurrent writers (threads or processes) never interleave
within a line, and there is no fsync per entry: audited reads must stay cheap,
and a crash can at worst lose the last lines, which only makes the database
run ahead of its checkpoints, which ``verify_audit`` accepts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from maillage.audit import keys
from maillage.lib.hashchain import Checkpoint, sign_checkpoint

logger = logging.getLogger(__name__)

FILE_NAME = "checkpoints.log"


def checkpoint_file() -> Path:
    return Path(settings.MAILLAGE_AUDIT_CHECKPOINT_DIR) / FILE_NAME


def signed(seq: int, hash: str) -> Checkpoint:
    return sign_checkpoint(keys.keyring(), seq, hash, timezone.now().isoformat())


def append(seq: int, hash: str) -> None:
    """Write one checkpoint line. Runs after commit: rolled-back entries never get one."""
    line = (signed(seq, hash).to_json() + "\n").encode()
    path = checkpoint_file()
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class BadLine:
    """A line of a checkpoint file that is not a checkpoint signed by a known key."""

    path: Path
    number: int


def read(path: Path, known: dict[str, bytes]) -> tuple[list[Checkpoint], list[BadLine]]:
    """The authentic checkpoints of a file, and the lines that are not."""
    good: list[Checkpoint] = []
    bad: list[BadLine] = []
    if not path.exists():
        return good, bad
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            checkpoint = Checkpoint.from_json(text)
            if checkpoint is not None and checkpoint.is_authentic(known):
                good.append(checkpoint)
            else:
                bad.append(BadLine(path, number))
    return good, bad
