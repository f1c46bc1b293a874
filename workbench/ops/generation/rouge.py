"""ROUGE-L (longest common subsequence F-measure) over word tokens, and a pool to test novelty.

Self-instruct keeps a generated instruction only when its ROUGE-L against every instruction
already in the pool stays below a threshold. Comparing one candidate with thousands of pool
entries is the hot loop, so tokens become small integers once and the LCS is the classic
two-row dynamic programme; an upper bound (min length) skips pairs that cannot reach the
threshold.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric words (the tokenisation ROUGE's reference scorer uses)."""
    return _WORD.findall(text.lower())


def lcs_length(a: list, b: list) -> int:
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else (prev[j + 1] if prev[j + 1] > cur[j] else cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(a: str | list, b: str | list) -> float:
    """ROUGE-L F1 between two texts (or token lists); 0.0 when either is empty."""
    ta = tokens(a) if isinstance(a, str) else a
    tb = tokens(b) if isinstance(b, str) else b
    if not ta or not tb:
        return 0.0
    lcs = lcs_length(ta, tb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(tb), lcs / len(ta)
    return 2 * p * r / (p + r)


class RougePool:
    """Texts accepted so far; `max_score(text)` is the highest ROUGE-L against any of them."""

    def __init__(self, texts=()):
        self._ids: dict[str, int] = {}
        self._pool: list[list[int]] = []
        for t in texts:
            self.add(t)

    def __len__(self) -> int:
        return len(self._pool)

    def _encode(self, text: str) -> list[int]:
        return [self._ids.setdefault(w, len(self._ids)) for w in tokens(text)]

    def add(self, text: str) -> None:
        self._pool.append(self._encode(text))

    def max_score(self, text: str, stop_at: float = 1.0) -> float:
        """Best ROUGE-L against the pool; returns early once `stop_at` is reached."""
        cand = self._encode(text)
        if not cand:
            return 0.0
        n, best = len(cand), 0.0
        for ref in self._pool:
            m = len(ref)
            if not m:
                continue
            # F1 with LCS <= min(n, m) is at most 2*min/(n+m): skip pairs that can't beat `best`
            if 2 * min(n, m) / (n + m) <= best:
                continue
            lcs = lcs_length(cand, ref)
            if lcs:
                f = 2 * lcs / (n + m)  # F1 of p=lcs/m, r=lcs/n simplifies to this
                if f > best:
                    best = f
                    if best >= stop_at:
                        break
        return best
