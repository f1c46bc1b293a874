"""Fuzzy search over the full text of every row (rapidfuzz), in batches so it can stop early."""

from __future__ import annotations

from typing import Callable

import numpy as np

from workbench.data.record import full_text

SCORE_CUTOFF = 80
BATCH = 4096


def fuzzy_search(ds, query: str, *, cancelled: Callable[[], bool] = lambda: False,
                 cutoff: float = SCORE_CUTOFF) -> np.ndarray:
    """Dataset row indices, in file order, whose text contains `query` approximately
    (partial_ratio >= cutoff). Case and punctuation are ignored."""
    from rapidfuzz import fuzz, process, utils

    q = utils.default_process(query)
    if not q:
        return np.array([], dtype=np.int64)
    hits: list[int] = []
    for start in range(0, len(ds), BATCH):
        if cancelled():
            break
        texts = [full_text(r) for r in ds.records(start, start + BATCH)]
        found = process.extract(q, texts, scorer=fuzz.partial_ratio, processor=utils.default_process,
                                score_cutoff=cutoff, limit=None)
        hits.extend(sorted(start + i for _, _, i in found))
    return np.array(hits, dtype=np.int64)
