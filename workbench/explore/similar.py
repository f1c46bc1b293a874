"""Nearest neighbours of a row by exact cosine similarity, in chunks (fine up to 1M x 384)."""

from __future__ import annotations

import numpy as np

CHUNK = 65536  # rows per matrix-vector product: bounded memory, still BLAS-fast


def nearest(vectors: np.ndarray, query: int | np.ndarray, k: int = 10, *, chunk: int = CHUNK) -> list[tuple[int, float]]:
    """The k rows most similar to `query` (a row position, or a vector), best first: [(row, cosine)].

    `vectors` must be L2-normalised (as embed_dataset returns them); a query row is left out of
    its own results.
    """
    n = len(vectors)
    if isinstance(query, (int, np.integer)):
        if not 0 <= query < n:
            raise IndexError(f"row {query} is out of range (0..{n - 1})")
        skip, q = int(query), vectors[int(query)]
    else:
        skip, q = -1, np.asarray(query, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
    k = max(0, min(k, n - (skip >= 0)))
    if k == 0:
        return []
    best_rows = np.zeros(0, dtype=np.int64)
    best_sims = np.zeros(0, dtype=np.float32)
    for start in range(0, n, chunk):
        sims = np.asarray(vectors[start : start + chunk], dtype=np.float32) @ q
        if start <= skip < start + len(sims):
            sims[skip - start] = -np.inf
        take = min(k, len(sims))
        top = np.argpartition(-sims, take - 1)[:take]
        best_rows = np.concatenate([best_rows, top + start])
        best_sims = np.concatenate([best_sims, sims[top]])
        if len(best_rows) > k:
            keep = np.argpartition(-best_sims, k - 1)[:k]
            best_rows, best_sims = best_rows[keep], best_sims[keep]
    order = np.lexsort((best_rows, -best_sims))
    return [(int(best_rows[i]), float(best_sims[i])) for i in order]
