"""Normalising names for identity comparison, without Django.

Identity vigilance compares traits after removing what typing varies on:
accents, case, hyphens, apostrophes and repeated spaces.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss"})
# Spaces, hyphens (ASCII, U+2010, U+2011) and apostrophes (ASCII, U+2019, U+0060, U+00B4).
_SEPARATORS = re.compile("[\\s\\-\u2010\u2011'\u2019`\u00b4]+")


def normalise_name(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.translate(_LIGATURES))
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", without_marks).strip().upper()


def identity_match_key(birth_name: str, first_given_name: str, birth_date: dt.date) -> str:
    """The key two records share when their strict traits are the same person's."""
    return (
        f"{normalise_name(birth_name)}|{normalise_name(first_given_name)}|{birth_date.isoformat()}"
    )
