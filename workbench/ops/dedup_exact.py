"""Exact duplicates: each text normalised and hashed; rows with equal hashes form a cluster.
128-bit blake2b makes a false match negligible.

Normalising always puts the text in canonical form (NFKC, zero-width and control characters
removed: workbench.ops.hashing.canonical), so NFC and NFD spellings, NBSP and invisible
characters never hide a duplicate; case, whitespace and punctuation are each an option."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from workbench.ops.clusters import Cluster, build_clusters
from workbench.ops.hashing import canonical
from workbench.ops.oprun import Cancelled, iter_text_chunks


@dataclass
class ExactParams:
    view: str = "conversation"  # which text: "conversation" (no system prompt), "prompt", "answer" or "all"
    case: bool = True  # ignore case
    whitespace: bool = True  # fold runs of whitespace, strip the ends
    punctuation: bool = False  # drop punctuation and symbols
    keep: str = "first"


def normalise(text: str, *, case: bool = True, whitespace: bool = True, punctuation: bool = False) -> str:
    """The compared form of `text`: canonical, then case-folded, without punctuation and symbols,
    with runs of whitespace folded to one space and the ends stripped (each as asked)."""
    text = canonical(text)
    if case:
        text = text.casefold()
    if punctuation:
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
    if whitespace:
        text = " ".join(text.split())  # str.split's whitespace is re's \s: Unicode White_Space
    return text


def _key(norm: str) -> bytes:
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def exact_dedup(
    texts: Sequence[str],
    params: ExactParams | None = None,
    *,
    lengths: Sequence[int] | None = None,
    scores: Sequence[float | None] | None = None,
    progress: Callable[[int], None] | None = None,
    cancel=None,
    groups: Sequence[int] | None = None,
) -> list[Cluster]:
    """Clusters of rows whose normalised texts are equal (positions in `texts`); streams the
    texts and keeps one 16-byte key per row. Rows of different `groups` never match."""
    p = params or ExactParams()
    first: dict[bytes, int] = {}
    a: list[int] = []
    b: list[int] = []
    need_lengths = p.keep == "longest" and lengths is None
    seen_lengths: list[int] = []
    i = 0
    for chunk in iter_text_chunks(texts, 4096):
        if cancel is not None and cancel.is_set():
            raise Cancelled("exact dedup cancelled")
        for t in chunk:
            # A row with nothing to compare (a text row's prompt view, say) duplicates nothing.
            norm = normalise(t, case=p.case, whitespace=p.whitespace, punctuation=p.punctuation)
            key = _key(norm) if groups is None else _key(norm) + bytes([groups[i]])
            j = first.setdefault(key, i) if norm else i
            if j != i:
                a.append(j)
                b.append(i)
            if need_lengths:
                seen_lengths.append(len(t))
            i += 1
        if progress:
            progress(i)
    sim = np.ones(len(a))
    return build_clusters(
        i, np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), sim,
        keep=p.keep, lengths=seen_lengths if need_lengths else lengths, scores=scores,
    )


def params_dict(p: ExactParams) -> dict:
    return asdict(p)
