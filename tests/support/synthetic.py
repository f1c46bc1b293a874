"""Generated text with planted near-duplicates and planted benchmark items, to measure dedup and
decontamination (tests, benchmarks, demos) without downloading anything.

Text comes from a word-level Markov chain trained on the Python documentation topics that ship
with the interpreter (pydoc_data): varied technical English with a realistic vocabulary, not a
repeated template, so unrelated documents share common phrases the way real ones do.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _chain() -> tuple[dict[str, list[str]], list[str]]:
    from pydoc_data.topics import topics

    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*|[.,;:]", " ".join(topics.values()))
    chain: dict[str, list[str]] = {}
    for w, nxt in zip(tokens, tokens[1:]):
        chain.setdefault(w, []).append(nxt)
    vocab = [t for t in tokens if t[0].isalpha()]
    return chain, vocab


def document(rng: random.Random, n_words: int) -> str:
    """About n_words of Markov-chain prose, with sentence capitals and punctuation."""
    chain, vocab = _chain()
    out: list[str] = []
    w = rng.choice(vocab)
    words = 0
    cap = True
    while words < n_words:
        if w[0].isalpha():
            out.append(w.capitalize() if cap else w)
            words += 1
            cap = False
        elif out and out[-1][-1] not in ".,;:":
            out[-1] += w
            cap = w == "."
        nxt = chain.get(w)
        w = rng.choice(nxt) if nxt else rng.choice(vocab)
    return " ".join(out) + "."


def perturb(rng: random.Random, text: str, fraction: float = 0.1) -> str:
    """Replace `fraction` of the words with other words drawn from the same vocabulary."""
    _, vocab = _chain()
    ws = text.split(" ")
    k = max(1, round(fraction * len(ws)))
    for i in rng.sample(range(len(ws)), k):
        tail = ws[i][-1] if ws[i][-1] in ".,;:" else ""
        new = rng.choice(vocab)
        while new.lower() == ws[i].rstrip(".,;:").lower():
            new = rng.choice(vocab)
        ws[i] = new + tail
    return " ".join(ws)


def planted_corpus(
    n: int, dup_fraction: float = 0.1, change: float = 0.1, seed: int = 0, min_words: int = 40, max_words: int = 300
) -> tuple[list[str], list[tuple[int, int]]]:
    """n texts of which about dup_fraction are near-copies (change of the words replaced) of
    earlier ones. Returns (texts, [(original, copy)]) with positions in texts."""
    rng = random.Random(seed)
    texts: list[str] = []
    pairs: list[tuple[int, int]] = []
    for i in range(n):
        if texts and rng.random() < dup_fraction:
            src = rng.randrange(len(texts))
            texts.append(perturb(rng, texts[src], change))
            pairs.append((src, i))
        else:
            texts.append(document(rng, rng.randint(min_words, max_words)))
    return texts, pairs


def true_clusters(n: int, pairs: list[tuple[int, int]]) -> list[set[int]]:
    """Planted pairs joined into groups (a copy of a copy belongs with its original)."""
    import numpy as np

    from workbench.ops.unionfind import components

    a, b = (np.array([p[k] for p in pairs], dtype=np.int64) for k in (0, 1))
    labels = components(n, a, b)
    groups: dict[int, set[int]] = {}
    for x, y in pairs:
        groups.setdefault(int(labels[x]), set()).update((x, y))
    return list(groups.values())


def pair_scores(found: list[set[int]] | list[list[int]], truth: list[set[int]]) -> tuple[float, float]:
    """Pairwise precision and recall: pairs put in one cluster vs pairs planted in one group."""

    def pairs_of(groups) -> set[tuple[int, int]]:
        out = set()
        for g in groups:
            g = sorted(g)
            out.update((a, b) for i, a in enumerate(g) for b in g[i + 1 :])
        return out

    f, t = pairs_of(found), pairs_of(truth)
    precision = len(f & t) / len(f) if f else 1.0
    recall = len(f & t) / len(t) if t else 1.0
    return precision, recall
