from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillage.lib.filetypes import (
    DICOM,
    HL7_AECG,
    JPEG,
    MP3,
    PDF,
    PNG,
    TEXT,
    WAV,
    RejectedFile,
    Rejection,
    sniff,
)

LIMIT = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", WAV),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", MP3),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00", DICOM),
        (b'<?xml version="1.0"?>\n<AnnotatedECG xmlns="urn:hl7-org:v3">', HL7_AECG),
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


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()">',
        b"<?xml version='1.0'?><svg/>",
        b"\x00\x01\x02\x03 binary junk",
    ],
)
def test_it_refuses_markup_and_unknown_binaries(data: bytes) -> None:
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
