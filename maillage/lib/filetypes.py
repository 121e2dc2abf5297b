"""What an uploaded file really is, from its first bytes, without Django.

The name and the declared type of an upload are the sender's words; the
content decides. Only the kinds a health record needs are accepted: PDF
reports, images (photos, scanned letters), sounds (stethoscope), ECG traces
(PDF, image, or the HL7 aECG XML and DICOM formats) and plain text.
Executables, scripts, archives, HTML and SVG are refused whatever their name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Rejection(enum.Enum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    EXECUTABLE = "executable"
    UNKNOWN_TYPE = "unknown_type"


class RejectedFile(ValueError):
    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str


PDF = FileType("application/pdf", "pdf")
PNG = FileType("image/png", "png")
JPEG = FileType("image/jpeg", "jpg")
WEBP = FileType("image/webp", "webp")
WAV = FileType("audio/wav", "wav")
MP3 = FileType("audio/mpeg", "mp3")
OGG = FileType("audio/ogg", "ogg")
DICOM = FileType("application/dicom", "dcm")
HL7_AECG = FileType("application/xml", "xml")
TEXT = FileType("text/plain", "txt")

# Signatures of programs and containers that could carry one.
_EXECUTABLE_PREFIXES = (
    b"MZ",  # Windows PE
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Java class / universal binary
    b"#!",  # scripts
    b"PK\x03\x04",  # zip, jar, apk, office documents with macros
    b"\xd0\xcf\x11\xe0",  # OLE (old office documents with macros, msi)
    b"Rar!",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # archives
)
_MARKUP_HINTS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?php")


def sniff(data: bytes, *, max_bytes: int) -> FileType:
    """The type of ``data``, or RejectedFile saying why it is refused."""
    if not data:
        raise RejectedFile(Rejection.EMPTY)
    if len(data) > max_bytes:
        raise RejectedFile(Rejection.TOO_LARGE)
    head = data[:512]
    if head.startswith(_EXECUTABLE_PREFIXES):
        raise RejectedFile(Rejection.EXECUTABLE)
    found = _binary_type(data) or _text_type(head)
    if found is None:
        raise RejectedFile(Rejection.UNKNOWN_TYPE)
    return found


def _binary_type(data: bytes) -> FileType | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return MP3
    if data.startswith(b"OggS"):
        return OGG
    if data[128:132] == b"DICM":
        return DICOM
    return None


def _text_type(head: bytes) -> FileType | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at 512 bytes is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode()
    if any(hint in lowered[:300] for hint in _MARKUP_HINTS):
        return None
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<annotatedecg"):
        return HL7_AECG if b"annotatedecg" in lowered else None
    return TEXT
