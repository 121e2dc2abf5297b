"""Which regular expressions can backtrack for a long time, read from their parse tree.

Python's ``re`` backtracks: a pattern with two unbounded quantifiers that
can match the same characters one after the other (``.+?\\s*\\(``), or one
inside another (``(a+)+``), tries a number of splits that grows with the
square (or the power) of the input before it fails. A pattern without those
shapes runs in time linear in its input for ``match``/``fullmatch``, and
Maillage's patterns are only applied that way or with a repeat that cannot
fail once started (``sub``/``split`` on a character class).

The check is conservative (a character class is over-approximated by the
characters it can match among a sample alphabet), so it may flag a safe
pattern, never pass one of the two shapes above.
"""

from __future__ import annotations

import re

# The parser re itself uses; typeshed stubs it only under the deprecated sre_* names.
import re._constants as C  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable
from functools import cache
from typing import Any

# Every character class we use is decided on these: ASCII, Latin-1, Latin
# Extended-A, the typographic hyphens, quotes and spaces.
# An item of re's parse tree: (opcode, argument).
Item = tuple[Any, Any]

_ALPHABET = frozenset(
    [chr(c) for c in range(0x250)] + ["\u2010", "\u2011", "\u2019", "\u202f", "\u3000"]
)
_UNBOUNDED = C.MAXREPEAT
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT}


@cache
def _category(code: Any, flags: int) -> frozenset[str]:
    probe = {
        C.CATEGORY_DIGIT: r"\d",
        C.CATEGORY_NOT_DIGIT: r"\D",
        C.CATEGORY_SPACE: r"\s",
        C.CATEGORY_NOT_SPACE: r"\S",
        C.CATEGORY_WORD: r"\w",
        C.CATEGORY_NOT_WORD: r"\W",
    }.get(code)
    if probe is None:
        return _ALPHABET
    compiled = re.compile(probe, flags & re.ASCII)
    return frozenset(c for c in _ALPHABET if compiled.fullmatch(c))


def _class(items: Iterable[Item], flags: int) -> frozenset[str]:
    chars: set[str] = set()
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE:
            low, high = av
            chars.update(c for c in _ALPHABET if low <= ord(c) <= high)
        elif op is C.CATEGORY:
            chars |= _category(av, flags)
        else:
            return _ALPHABET
    return _ALPHABET - chars if negate else frozenset(chars)


def _chars(items: Iterable[Item], flags: int) -> frozenset[str]:
    """Every character some item of ``items`` can consume (an over-approximation)."""
    found: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            found.add(chr(av))
            if flags & re.IGNORECASE:
                found |= {chr(av).upper(), chr(av).lower()}
        elif op is C.NOT_LITERAL:
            found |= _ALPHABET - {chr(av)}
        elif op is C.ANY:
            found |= _ALPHABET if flags & re.DOTALL else _ALPHABET - {"\n"}
        elif op is C.IN:
            found |= _class(av, flags)
        elif op in _REPEATS:
            found |= _chars(av[2], flags)
        elif op is C.SUBPATTERN:
            found |= _chars(av[3], flags)
        elif op is C.BRANCH:
            for branch in av[1]:
                found |= _chars(branch, flags)
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        else:
            found |= _ALPHABET
    return frozenset(found)


def _unbounded(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[1] == _UNBOUNDED


def _nullable(op: Any, av: Any) -> bool:
    """Can this item match the empty string (so the items around it touch)?"""
    if op in _REPEATS:
        return av[0] == 0
    return op in (C.AT, C.ASSERT, C.ASSERT_NOT)


def _contains_unbounded(items: Iterable[Item]) -> bool:
    for op, av in items:
        if _unbounded(op, av):
            return True
        if op in _REPEATS and _contains_unbounded(av[2]):
            return True
        if op is C.SUBPATTERN and _contains_unbounded(av[3]):
            return True
        if op is C.BRANCH and any(_contains_unbounded(b) for b in av[1]):
            return True
    return False


def _flattened(items: Iterable[Item]) -> list[Item]:
    """The items with groups opened: a group's last repeat touches what follows it."""
    flat: list[Item] = []
    for op, av in items:
        if op is C.SUBPATTERN:
            flat += _flattened(av[3])
        else:
            flat.append((op, av))
    return flat


def _risks(items: list[Item], flags: int) -> list[str]:
    risks: list[str] = []
    for index, (op, av) in enumerate(items):
        if op in _REPEATS:
            body = av[2]
            if av[1] == _UNBOUNDED and _contains_unbounded(body):
                risks.append("an unbounded repeat inside an unbounded repeat")
            risks += _risks(_flattened(body), flags)
        elif op is C.BRANCH:
            for branch in av[1]:
                risks += _risks(_flattened(branch), flags)
        if not _unbounded(op, av):
            continue
        mine = _chars([(op, av)], flags)
        # The next unbounded repeat over the same characters, reachable through
        # items that match nothing or only what this repeat could take itself:
        # the input can then be split between the two in n ways at each step.
        for next_op, next_av in items[index + 1 :]:
            theirs = _chars([(next_op, next_av)], flags)
            if _unbounded(next_op, next_av) and mine & theirs:
                risks.append("two unbounded repeats over the same characters in a row")
                break
            if not (_nullable(next_op, next_av) or theirs <= mine):
                break
    return risks


def backtracking_risks(pattern: str, flags: int = 0) -> list[str]:
    """Why ``pattern`` may backtrack in more than linear time; empty when it cannot."""
    parsed = sre_parse.parse(pattern, flags)
    return _risks(_flattened(parsed), flags | parsed.state.flags)
