"""Small generated pictures for the demo's captures (an otoscope's view, a camera's still).

Pillow draws a JPEG when it is installed (WeasyPrint brings it); otherwise a
tiny PNG is written by hand (zlib and the PNG chunks), so the demo never
needs a picture file in the repository.
"""

from __future__ import annotations

import io
import struct
import zlib

# (background, disc) colours of each kind of view, RGB.
VIEWS = {
    "tympanum": ((40, 20, 18), (214, 160, 140)),
    "skin": ((226, 190, 160), (150, 70, 60)),
}
WIDTH, HEIGHT = 160, 120


def _inside(x: int, y: int, width: int, height: int) -> bool:
    """Within the central disc that an otoscope (or a lesion) shows."""
    cx, cy, r = width / 2, height / 2, min(width, height) * 0.38
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def png(view: str, width: int = 32, height: int = 24) -> bytes:
    """A small valid PNG of ``view`` (8-bit RGB, no Pillow needed)."""
    back, disc = VIEWS[view]
    rows = b"".join(
        b"\x00"
        + b"".join(bytes(disc if _inside(x, y, width, height) else back) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def picture(view: str) -> tuple[str, bytes]:
    """A file name and the bytes of a small picture of ``view``: a JPEG, or a PNG without Pillow."""
    try:
        from PIL import Image, ImageDraw, ImageFilter
    except ImportError:
        return f"{view}.png", png(view)
    back, disc = VIEWS[view]
    image = Image.new("RGB", (WIDTH, HEIGHT), back)
    draw = ImageDraw.Draw(image)
    r = min(WIDTH, HEIGHT) * 0.38
    draw.ellipse((WIDTH / 2 - r, HEIGHT / 2 - r, WIDTH / 2 + r, HEIGHT / 2 + r), fill=disc)
    # A light reflex, as on a tympanum (or a lesion's edge).
    draw.ellipse(
        (WIDTH / 2 - 6, HEIGHT / 2 + 8, WIDTH / 2 + 14, HEIGHT / 2 + 16), fill=(250, 230, 220)
    )
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(2)).save(out, "JPEG", quality=70)
    return f"{view}.jpg", out.getvalue()
