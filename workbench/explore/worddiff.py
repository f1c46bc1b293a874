"""Word-level differences between two texts (a duplicate and its representative, a rewrite
and its original), as difflib's opcodes over words."""

from __future__ import annotations

import difflib
import re

_TOKENS = re.compile(r"\s+|\S+\s*")  # a word with the whitespace after it; leading whitespace alone


def word_diff(before: str, after: str) -> list[tuple[str, str, str]]:
    """[(tag, before part, after part)] covering both texts in order; tag is difflib's
    "equal", "replace", "delete" (only before has the words) or "insert" (only after has them).
    Joining the before parts gives `before`, the after parts `after`."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    return [(tag, "".join(a[i1:i2]), "".join(b[j1:j2]))
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()]
