"""Fuzzy search over the full text of every row (rapidfuzz), in batches so it can stop early."""

from __future__ import annotations

from typing import Callable

import numpy as np

from workbench.data.record import full_text

SCORE_CUTOFF = 80
BATCH = 4096


def fuzzy_search(ds, query: str, *, cancelled: Callable[[], bool] = lambda: False,
                 cutoff: float = SCORE_CUTOFF) -> np.ndarray:
    """Dataset row indices, in file order, whose text contains every word of `query`
    approximately (rapidfuzz partial_ratio >= cutoff per word, so a typo still matches).
    Case and punctuation are ignored."""
    from rapidfuzz import fuzz, process, utils

    words = utils.default_process(query).split()
    if not words:
        return np.array([], dtype=np.int64)
    hits: list[int] = []
    for start in range(0, len(ds), BATCH):
        if cancelled():
            break
        texts = [utils.default_process(full_text(r)) for r in ds.records(start, start + BATCH)]
        keep: set[int] | None = None
        for w in words:
            found = {i for _, _, i in process.extract(w, texts, scorer=fuzz.partial_ratio, score_cutoff=cutoff,
                                                      limit=None)}
            keep = found if keep is None else keep & found
            if not keep:
                break
        hits.extend(sorted(start + i for i in keep or ()))
    return np.array(hits, dtype=np.int64)
