"""What an uploaded file really is, from its bytes, without Django.

The name and the declared type of an upload are the sender's words; the
content decides. Only the kinds clinical work needs are accepted: PDF
reports, images (photos, scanned letters), sounds (stethoscope), short video
clips, ECG traces (PDF, image, the HL7 aECG XML and DICOM formats) and plain
text. Executables, scripts, archives, HTML and SVG are refused whatever their
name, and so is any file that is also something a browser or a shell would
run (a polyglot): "%PDF-" followed by a page, an MP3 tag followed by a
script, HTML in a DICOM preamble. The name's extension, when there is one,
must agree with the content.

Every scan is linear in the size of the file: ``bytes.find`` over one
lowercase copy, never a regular expression on what the sender wrote.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class Rejection(enum.Enum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    EXECUTABLE = "executable"
    UNKNOWN_TYPE = "unknown_type"
    ACTIVE_CONTENT = "active_content"
    EXTENSION_MISMATCH = "extension_mismatch"
    INVALID_AECG = "invalid_aecg"
    INVALID_TEXT = "invalid_text"


class RejectedFile(ValueError):
    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str
    # Other extensions a sender may rightly use for the same content.
    aliases: tuple[str, ...] = field(default=(), compare=False)

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.aliases)


PDF = FileType("application/pdf", "pdf")
PNG = FileType("image/png", "png")
JPEG = FileType("image/jpeg", "jpg", ("jpeg", "jpe"))
WEBP = FileType("image/webp", "webp")
WAV = FileType("audio/wav", "wav")
MP3 = FileType("audio/mpeg", "mp3")
OGG = FileType("audio/ogg", "ogg", ("oga", "opus"))
FLAC = FileType("audio/flac", "flac")
MP4 = FileType("video/mp4", "mp4", ("m4v", "m4a"))
WEBM = FileType("video/webm", "webm")
DICOM = FileType("application/dicom", "dcm", ("dicom",))
HL7_AECG = FileType("application/xml", "xml")
TEXT = FileType("text/plain", "txt", ("text",))

ALL_TYPES = (PDF, PNG, JPEG, WEBP, WAV, MP3, OGG, FLAC, MP4, WEBM, DICOM, HL7_AECG, TEXT)
_BY_MIME = {kind.mime: kind for kind in ALL_TYPES}

AECG_ROOT = "{urn:hl7-org:v3}AnnotatedECG"

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

# Tags a browser would render or run, found anywhere in the file. Each must be
# followed by a tag delimiter, so that four random bytes of a compressed image
# are not taken for "<svg".
_ACTIVE_TAGS = (
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<frame",
    b"<object",
    b"<embed",
    b"<applet",
    b"<meta",
    b"<link",
    b"<base",
    b"<form",
    b"<style",
    b"<img",
    b"<math",
    b"<template",
)
_TAG_DELIMITERS = frozenset(b" \t\r\n\f/>")
# Markers that need no delimiter: long enough never to occur by chance.
_ACTIVE_MARKERS = (
    b"<!doctype",
    b"<?php",
    b"<%@",
    b"<hta:",
    b"<?xml-stylesheet",
    b"<xsl:",
    b"<!entity",
    b"javascript:",
    b"vbscript:",
    b"http://www.w3.org/1999/xhtml",
    b"http://www.w3.org/2000/svg",
    b"onload=",
    b"onerror=",
)
# A PDF that runs something when opened.
_PDF_ACTIONS = (b"/javascript", b"/launch", b"/embeddedfile", b"/richmedia")
# What a script saved as text would say; a clinical note never does.
_SCRIPT_MARKERS = (
    b"activexobject",
    b"createobject(",
    b"wscript.",
    b"powershell",
    b"invoke-expression",
    b"@echo off",
    b"cmd.exe",
    b"document.write",
    b"document.cookie",
    b"window.location",
    b"eval(",
    b"function(",
    b"<%",
)
# Controls that have no place in a text file (all C0 but tab, LF, FF, CR; and DEL).
_TEXT_CONTROLS = bytes(b for b in range(256) if not (b < 0x20 or b == 0x7F) or b in b"\t\n\f\r")
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4A "}
    | {b"dash", b"mmp4"}
)


def sniff(data: bytes, *, max_bytes: int, name: str | None = None) -> FileType:
    """The type of ``data``, or RejectedFile saying why it is refused.

    ``name`` is the sender's file name; when it has an extension, it must be
    one of the sniffed type's.
    """
    if not data:
        raise RejectedFile(Rejection.EMPTY)
    if len(data) > max_bytes:
        raise RejectedFile(Rejection.TOO_LARGE)
    if data[:512].startswith(_EXECUTABLE_PREFIXES):
        raise RejectedFile(Rejection.EXECUTABLE)
    found = _binary_type(data) or _text_type(data)
    if found is None:
        raise RejectedFile(Rejection.UNKNOWN_TYPE)
    lowered = data.lower()
    if _has_active_content(lowered, found):
        raise RejectedFile(Rejection.ACTIVE_CONTENT)
    if found is HL7_AECG:
        _check_aecg(data)
    if name is not None and not extension_agrees(name, found):
        raise RejectedFile(Rejection.EXTENSION_MISMATCH)
    return found


def extension_of(name: str) -> str:
    """The last extension of a file name, lowercase, or "" when it has none."""
    base = os.path.basename(name.replace("\\", "/")).strip().rstrip(". ")
    stem, dot, extension = base.rpartition(".")
    return extension.lower() if dot and stem else ""


def extension_agrees(name: str, kind: FileType) -> bool:
    """A name without an extension claims nothing; one with an extension must say the truth."""
    extension = extension_of(name)
    return not extension or extension in kind.extensions


def by_mime(mime: str) -> FileType | None:
    return _BY_MIME.get(mime)


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
    if data.startswith(b"fLaC"):
        return FLAC
    if data[4:8] == b"ftyp" and data[8:12] in _MP4_BRANDS:
        return MP4
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return WEBM
    if data[128:132] == b"DICM":
        return DICOM
    return None


def _text_type(data: bytes) -> FileType | None:
    """Plain text (valid UTF-8, no stray controls) or an XML document to check as aECG."""
    if data.translate(None, _TEXT_CONTROLS):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        # Markup that is not an aECG is refused in _check_aecg.
        return HL7_AECG
    return TEXT


def _has_active_content(lowered: bytes, kind: FileType) -> bool:
    if any(marker in lowered for marker in _ACTIVE_MARKERS):
        return True
    if any(_has_tag(lowered, tag) for tag in _ACTIVE_TAGS):
        return True
    if kind is PDF:
        return any(action in lowered for action in _PDF_ACTIONS)
    if kind is TEXT:
        return _has_any_tag(lowered) or any(marker in lowered for marker in _SCRIPT_MARKERS)
    return False


def _has_tag(lowered: bytes, tag: bytes) -> bool:
    """``tag`` followed by a delimiter somewhere; each find starts past the last one."""
    at = lowered.find(tag)
    while at != -1:
        after = at + len(tag)
        if after == len(lowered) or lowered[after] in _TAG_DELIMITERS:
            return True
        at = lowered.find(tag, after)
    return False


def _has_any_tag(lowered: bytes) -> bool:
    """In plain text, "<" before a letter, "/", "!" or "?" is markup ("TA < 14" is not)."""
    at = lowered.find(b"<")
    while at != -1 and at + 1 < len(lowered):
        following = lowered[at + 1]
        if following in b"/!?" or 0x61 <= following <= 0x7A:
            return True
        at = lowered.find(b"<", at + 1)
    return False


def _check_aecg(data: bytes) -> None:
    """An HL7 aECG document, parsed without DTD, entities or external references."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError):
        raise RejectedFile(Rejection.INVALID_AECG) from None
    if root.tag != AECG_ROOT:
        raise RejectedFile(Rejection.INVALID_AECG)
