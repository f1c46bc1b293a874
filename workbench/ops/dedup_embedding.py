"""Semantic duplicates: rows whose embeddings (L2-normalised, so a dot product is the cosine)
are at least `threshold` similar. The similarity matrix is never held whole: blocks of rows
are multiplied against blocks of the rows after them, and only pairs above the threshold are kept."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from workbench.ops.clusters import Cluster, build_clusters


@dataclass
class EmbeddingParams:
    view: str = "conversation"
    threshold: float = 0.95  # cosine similarity
    model: str | None = None  # a local sentence-transformers directory; default: the bundled MiniLM
    keep: str = "longest"  # near-duplicates differ: the most complete, whatever the row order (ops.clusters)
    block: int = 1024


def similar_pairs(emb: np.ndarray, threshold: float, block: int = 1024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) with emb[i] . emb[j] >= threshold, and their similarity."""
    emb = np.ascontiguousarray(emb, dtype=np.float32)
    a, b, s = [], [], []
    for start in range(0, len(emb), block):
        stop = min(start + block, len(emb))
        # This block of rows against itself and every later row, a block of columns at a time.
        for col in range(start, len(emb), 8 * block):
            sims = emb[start:stop] @ emb[col : col + 8 * block].T
            i, j = np.nonzero(sims >= threshold)
            upper = j + col > i + start  # each pair once, never a row with itself
            i, j = i[upper], j[upper]
            a.append(i + start)
            b.append(j + col)
            s.append(sims[i, j])
    if not a:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(a), np.concatenate(b), np.concatenate(s).astype(np.float64)


def embedding_dedup(
    emb: np.ndarray,
    params: EmbeddingParams | None = None,
    *,
    lengths: Sequence[int] | None = None,
    scores: Sequence[float | None] | None = None,
    empty: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    stable_keys: Callable[[list[int]], Sequence[str]] | None = None,
) -> list[Cluster]:
    """Clusters of rows whose embeddings are near-identical (positions in `emb`). Rows marked in
    `empty` (no text in the view) are left out: every empty text embeds to the same vector."""
    p = params or EmbeddingParams()
    if not 0 < p.threshold <= 1:
        raise ValueError(f"cosine threshold must be in (0, 1], got {p.threshold}")
    if empty is not None and empty.any():
        emb = np.array(emb, dtype=np.float32)
        emb[empty] = 0  # a zero vector's cosine with anything is 0, below any threshold
    a, b, s = similar_pairs(emb, p.threshold, p.block)
    if groups is not None:  # rows of different groups never match
        same = groups[a] == groups[b]
        a, b, s = a[same], b[same], s[same]
    return build_clusters(len(emb), a, b, s, keep=p.keep, lengths=lengths, scores=scores,
                          stable_keys=stable_keys)


def params_dict(p: EmbeddingParams) -> dict:
    d = asdict(p)
    d.pop("block")
    return d
