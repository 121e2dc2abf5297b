"""Reading back the PDFs we render (reports, summaries), as a reader of them would."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """The text of every page, in order (WeasyPrint embeds fonts with their Unicode map)."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_image_count(data: bytes) -> int:
    """How many images the pages draw."""
    reader = PdfReader(io.BytesIO(data))
    return sum(len(page.images) for page in reader.pages)
