"""ROUGE-L (longest common subsequence F-measure) over word tokens, and a pool to test novelty.

Self-instruct keeps a generated instruction only when its ROUGE-L against every instruction
already in the pool stays below a threshold; the other generators drop near-copies the same
way. The LCS comes from rapidfuzz (`LCSseq`, in C): each word becomes one character of a
private alphabet, so a pool is compared with one candidate in a single `cdist` call.
F1 of precision lcs/len(b) and recall lcs/len(a) is 2*lcs / (len(a) + len(b)).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric words (the tokenisation ROUGE's reference scorer uses)."""
    return _WORD.findall(text.lower())


def lcs_length(a, b) -> int:
    """Length of the longest common subsequence of two sequences (strings or lists)."""
    from rapidfuzz.distance import LCSseq

    return int(LCSseq.similarity(a, b))


def rouge_l(a: str | list, b: str | list) -> float:
    """ROUGE-L F1 between two texts (or token lists); 0.0 when either is empty."""
    ta = tokens(a) if isinstance(a, str) else a
    tb = tokens(b) if isinstance(b, str) else b
    if not ta or not tb:
        return 0.0
    return 2 * lcs_length(ta, tb) / (len(ta) + len(tb))


class RougePool:
    """Texts accepted so far; `max_score(text)` is the highest ROUGE-L against any of them."""

    def __init__(self, texts=()):
        self._ids: dict[str, int] = {}
        self._pool: list[str] = []
        self._lengths: list[int] = []
        for t in texts:
            self.add(t)

    def __len__(self) -> int:
        return len(self._pool)

    def _encode(self, text: str) -> str:
        # one code point per distinct word (1.1 million words; the string is never shown)
        return "".join(chr(self._ids.setdefault(w, len(self._ids))) for w in tokens(text))

    def add(self, text: str) -> None:
        self._pool.append(self._encode(text))
        self._lengths.append(len(self._pool[-1]))

    def max_score(self, text: str) -> float:
        """Best ROUGE-L of `text` against the pool (0.0 for an empty pool or text)."""
        import numpy as np
        from rapidfuzz import process
        from rapidfuzz.distance import LCSseq

        cand = self._encode(text)
        if not cand or not self._pool:
            return 0.0
        lcs = process.cdist([cand], self._pool, scorer=LCSseq.similarity, dtype=np.int32)[0]
        return float((2 * lcs / (len(cand) + np.asarray(self._lengths, dtype=np.float64))).max())
