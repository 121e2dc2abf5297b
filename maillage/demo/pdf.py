"""A tiny PDF writer for the demo's documents (one page of text, Helvetica; an ECG tracing).

The demo only needs believable files in the record; real reports are
rendered from HTML templates by the teleconsultation capability.
"""

from __future__ import annotations

import math


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` (text in the Windows-1252 set)."""
    body = ["BT", "/F1 11 Tf", "56 780 Td", "14 TL"]
    for line in lines:
        body.append(f"({_escape(line)}) Tj T*")
    body.append("ET")
    stream = "\n".join(body).encode("cp1252", "replace")
    return _pdf(stream, "0 0 595 842")


def _pqrst(t: float) -> float:
    """One heartbeat's height (mV) at ``t`` seconds into it: P, QRS and T waves."""

    def wave(centre: float, width: float, height: float) -> float:
        return height * math.exp(-(((t - centre) / width) ** 2))

    return (
        wave(0.16, 0.025, 0.15)
        + wave(0.27, 0.008, -0.12)
        + wave(0.30, 0.010, 1.1)
        + wave(0.33, 0.010, -0.25)
        + wave(0.55, 0.045, 0.3)
    )


def ecg_pdf(lines: list[str], *, rate: int = 72, seconds: float = 10.0) -> bytes:
    """A one-page landscape PDF: ``lines`` above a lead-II-like trace on ECG paper.

    25 mm/s and 10 mm/mV, as a printed tracing; the trace is computed, not
    recorded (a believable file for the demo, not a patient's heart).
    """
    mm = 72 / 25.4
    left, base = 40.0, 300.0
    beat = 60.0 / rate
    grid = ["0.95 0.75 0.75 RG", "0.3 w"]
    for i in range(0, 251, 5):
        x = left + i * mm
        grid.append(f"{x:.1f} {base - 60 * mm / 2:.1f} m {x:.1f} {base + 60 * mm / 2:.1f} l S")
    for j in range(-30, 31, 5):
        y = base + j * mm
        grid.append(f"{left:.1f} {y:.1f} m {left + 250 * mm:.1f} {y:.1f} l S")
    points = []
    steps = int(seconds * 250)
    for k in range(steps + 1):
        t = k / 250
        points.append((left + t * 25 * mm, base + _pqrst(t % beat) * 10 * mm))
    trace = ["0 0 0 RG", "0.8 w", f"{points[0][0]:.1f} {points[0][1]:.1f} m"]
    trace += [f"{x:.1f} {y:.1f} l" for x, y in points[1:]]
    trace.append("S")
    text = ["0 0 0 rg", "BT", "/F1 11 Tf", "40 560 Td", "14 TL"]
    text += [f"({_escape(line)}) Tj T*" for line in lines]
    text.append("ET")
    return _pdf("\n".join([*grid, *trace, *text]).encode("cp1252", "replace"), "0 0 842 595")


def _pdf(stream: bytes, media_box: str) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box.encode() + b"] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
