"""How a stored file goes back to a browser, wherever it is served from."""

from __future__ import annotations

import urllib.parse

from django.http import HttpResponse

from maillage.files.models import StoredFile

# A stored file is never a page of ours: no script, no sniffing, no framing.
STORED_FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def content_disposition(stored: StoredFile) -> str:
    """Images and PDFs open in the browser; anything else downloads."""
    disposition = "inline" if stored.is_image or stored.mime == "application/pdf" else "attachment"
    return f"{disposition}; filename*=UTF-8''{urllib.parse.quote(stored.original_name)}"


def stored_file_response(stored: StoredFile, data: bytes) -> HttpResponse:
    """The bytes of a file already read through its gate and storage.read."""
    response = HttpResponse(data, content_type=stored.mime)
    response["Content-Disposition"] = content_disposition(stored)
    response["Content-Security-Policy"] = STORED_FILE_POLICY
    response["Cache-Control"] = "private, no-store"
    return response
