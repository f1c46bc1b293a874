"""Connected components over an edge list, vectorised (hook and pointer-jump), for dedup clusters.

A Python union-find walks edges one by one; at a million rows with many duplicate pairs the
numpy version below does the same in a handful of array passes.
"""

from __future__ import annotations

import numpy as np


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label each of n nodes with the smallest node index of its component, given edges a[k]-b[k]."""
    parent = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if not len(a):
        return parent
    while True:
        pa, pb = parent[a], parent[b]
        if np.array_equal(pa, pb):
            return parent
        low = np.minimum(pa, pb)
        # Hook each root onto the smallest root it is joined to, then flatten every path.
        np.minimum.at(parent, pa, low)
        np.minimum.at(parent, pb, low)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
