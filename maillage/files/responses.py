"""How a stored file goes back to a browser, wherever it is served from."""

from __future__ import annotations

import unicodedata
import urllib.parse

from django.http import HttpResponse

from maillage.files.models import StoredFile
from maillage.files.storage import safe_name, stored_name
from maillage.lib.filetypes import by_mime

# A stored file is never a page of ours: no script, no sniffing, no framing.
STORED_FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def served_name(stored: StoredFile) -> str:
    """The sender's name made safe, ending with the extension of what the file is.

    Files stored before the type check kept the sender's extension: the
    sniffed type, not the name, says how the receiver's system will open it.
    """
    kind = by_mime(stored.mime)
    return stored_name(stored.original_name, kind) if kind else safe_name(stored.original_name)


def content_disposition(stored: StoredFile) -> str:
    """Always a download: an uploaded file never opens as a page of this site."""
    name = served_name(stored)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or "fichier"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def stored_file_response(stored: StoredFile, data: bytes) -> HttpResponse:
    """The bytes of a file already read through its gate and storage.read."""
    response = HttpResponse(data, content_type=stored.mime)
    response["Content-Disposition"] = content_disposition(stored)
    response["Content-Security-Policy"] = STORED_FILE_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
