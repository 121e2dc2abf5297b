from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.filetypes import (
    DICOM,
    FLAC,
    HL7_AECG,
    JPEG,
    MP3,
    MP4,
    PDF,
    PNG,
    TEXT,
    WAV,
    WEBM,
    RejectedFile,
    Rejection,
    sniff,
)

LIMIT = 1024 * 1024
AECG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<AnnotatedECG xmlns="urn:hl7-org:v3"><id root="1.2.3"/><code code="93000"/>'
    b"<component><series><value>-0.12 0.08 0.95</value></series></component></AnnotatedECG>"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", WAV),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", MP3),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00", DICOM),
        (AECG, HL7_AECG),
        (b"fLaC\x00\x00\x00\x22", FLAC),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", MP4),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", WEBM),
        (b"Compte rendu : tension 13/8, auscultation normale.", TEXT),
    ],
)
def test_it_recognises_what_a_record_holds(data: bytes, expected) -> None:
    assert sniff(data, max_bytes=LIMIT) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program named report.pdf
        b"\x7fELF\x02\x01\x01",
        b"#!/bin/sh\nrm -rf /",
        b"PK\x03\x04\x14\x00\x06\x00",  # zip / docm
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE, macros
        b"\xca\xfe\xba\xbe\x00\x00",
    ],
)
def test_it_refuses_programs_and_containers(data: bytes) -> None:
    with pytest.raises(RejectedFile) as caught:
        sniff(data, max_bytes=LIMIT)
    assert caught.value.reason is Rejection.EXECUTABLE


def test_it_refuses_unknown_binaries_and_text_that_is_not_utf8() -> None:
    for data in (b"\x00\x01\x02\x03 binary junk", "Résultat".encode("latin-1")):
        with pytest.raises(RejectedFile) as caught:
            sniff(data, max_bytes=LIMIT)
        assert caught.value.reason is Rejection.UNKNOWN_TYPE


def test_it_refuses_empty_and_oversized_files() -> None:
    with pytest.raises(RejectedFile) as empty:
        sniff(b"", max_bytes=LIMIT)
    assert empty.value.reason is Rejection.EMPTY
    with pytest.raises(RejectedFile) as large:
        sniff(b"%PDF-" + b"0" * 100, max_bytes=50)
    assert large.value.reason is Rejection.TOO_LARGE


@given(st.binary(max_size=600))
def test_it_never_fails_otherwise_than_by_refusing(data: bytes) -> None:
    with contextlib.suppress(RejectedFile):
        sniff(data, max_bytes=LIMIT)


# --- Active content and polyglots, as an attacker would craft them -----------------

HTML = b"<html><body><script>fetch('/patients/').then(r=>r.text())</script></body></html>"


@pytest.mark.parametrize(
    "data",
    [
        HTML,
        b"<!DOCTYPE html><p>hello",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()">',
        b"<?xml version='1.0'?><svg/>",
        b'<HTA:APPLICATION ID="x"/><script language="VBScript">CreateObject("WScript.Shell")',
        b"%PDF-1.4\n" + HTML,  # "%PDF-" followed by a page, saved as .html
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + HTML,  # an MP3 tag, then a page
        HTML.ljust(128, b" ") + b"DICM" + b"\x02\x00" * 10,  # a page in the DICOM preamble
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000 + b"<ScRiPt>alert(1)</ScRiPt>",  # deep, mixed case
        b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"<iframe src=//evil>",
        b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
        b"%PDF-1.7\n1 0 obj << /OpenAction << /S /Launch /F (cmd.exe) >> >>",
        b"%PDF-1.7\n<< /Type /EmbeddedFile >>",
        b"Compte rendu <b onmouseover=alert(1)>normal</b>",
        b"var s = new ActiveXObject('WScript.Shell'); s.Run('calc');",  # a .js saved as .txt
        b"@echo off\r\ndel /q C:\\*",  # a .bat
        b'Set o = CreateObject("WScript.Shell")',  # a .vbs
        b"powershell -enc SQBFAFgA; Invoke-Expression $x",  # a .ps1
        AECG.replace(
            b"<component>",
            b'<component><html:script xmlns:html="http://www.w3.org/1999/xhtml">x</html:script>',
        ),
    ],
)
def test_it_refuses_active_content_and_polyglots(data: bytes) -> None:
    with pytest.raises(RejectedFile) as caught:
        sniff(data, max_bytes=LIMIT)
    assert caught.value.reason is Rejection.ACTIVE_CONTENT


def test_plain_text_may_compare_values() -> None:
    note = "TA < 14, FC > 60 ; fièvre à 38,5 °C.\n".encode()
    assert sniff(note, max_bytes=LIMIT) == TEXT


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]>'
        b'<AnnotatedECG xmlns="urn:hl7-org:v3"/>',
        b'<?xml version="1.0"?><AnnotatedECG/>',  # not in the HL7 v3 namespace
        b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
        b'<AnnotatedECG xmlns="urn:hl7-org:v3"><unclosed>',
    ],
)
def test_only_a_well_formed_aecg_without_dtd_is_accepted_as_xml(data: bytes) -> None:
    with pytest.raises(RejectedFile) as caught:
        sniff(data, max_bytes=LIMIT)
    assert caught.value.reason in {Rejection.INVALID_AECG, Rejection.ACTIVE_CONTENT}


def test_a_billion_laughs_is_refused_without_expanding() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<AnnotatedECG xmlns="urn:hl7-org:v3">&b;</AnnotatedECG>'
    )
    with pytest.raises(RejectedFile):
        sniff(bomb, max_bytes=LIMIT)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("rapport.html", b"%PDF-1.4\n%%EOF"),
        ("photo.png", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("script.bat", b"Compte rendu : normal."),
        ("script.vbs", b"Compte rendu : normal."),
        ("script.ps1", b"Compte rendu : normal."),
        ("page.hta", b"Compte rendu : normal."),
        ("code.js", b"Compte rendu : normal."),
        ("image.svg", b"\x89PNG\r\n\x1a\n\x00"),
        ("cr.pdf.exe", b"%PDF-1.4\n%%EOF"),
    ],
)
def test_the_extension_must_agree_with_the_content(name: str, data: bytes) -> None:
    with pytest.raises(RejectedFile) as caught:
        sniff(data, max_bytes=LIMIT, name=name)
    assert caught.value.reason is Rejection.EXTENSION_MISMATCH


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("CR.PDF", b"%PDF-1.4\n%%EOF"),
        ("talon.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("irm", b"\x00" * 128 + b"DICM"),  # no extension claims nothing
        ("ecg.xml", AECG),
    ],
)
def test_an_agreeing_or_absent_extension_is_accepted(name: str, data: bytes) -> None:
    sniff(data, max_bytes=LIMIT, name=name)


def test_the_markup_scan_is_linear() -> None:
    # Many near-misses ("<svgX" repeated) cost one find each, not a backtrack.
    data = b"\x89PNG\r\n\x1a\n" + b"<svgx" * 200_000
    assert sniff(data, max_bytes=LIMIT * 2) == PNG
