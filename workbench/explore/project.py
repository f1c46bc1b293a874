"""2-D (or few-D) projections of embeddings: a quick PCA preview and UMAP as the real map."""

from __future__ import annotations

import numpy as np


def pca(x: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Principal-component projection through the d x d covariance (cheap for 1M x 384)."""
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if n == 0:
        return np.zeros((0, n_components), dtype=np.float32)
    centred = x - x.mean(axis=0, dtype=np.float64).astype(np.float32)
    cov = centred.T.astype(np.float64) @ centred.astype(np.float64) / max(n - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    top = vecs[:, np.argsort(vals)[::-1][:n_components]]
    out = np.zeros((n, n_components), dtype=np.float32)
    out[:, : top.shape[1]] = centred @ top.astype(np.float32)
    return out


def umap(
    x: np.ndarray,
    n_components: int = 2,
    *,
    n_neighbors: int = 30,
    min_dist: float = 0.1,
    metric: str = "cosine",
    random_state: int | None = 42,
) -> np.ndarray:
    """UMAP projection (umap-learn). Tiny inputs, where UMAP's spectral start fails, fall back to PCA.

    30 neighbours (rather than UMAP's 15) keep a topic together on the map instead of scattering
    its sub-topics.

    A fixed `random_state` makes maps reproducible (UMAP then runs single-threaded); pass None to
    let it use every core.
    """
    x = np.asarray(x, dtype=np.float32)
    if len(x) <= n_components + 2:
        return pca(x, n_components)
    import warnings

    from umap import UMAP

    reducer = UMAP(
        n_components=n_components, n_neighbors=min(n_neighbors, len(x) - 1), min_dist=min_dist,
        metric=metric, random_state=random_state, init="spectral" if len(x) > 2 * n_neighbors else "random",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by setting random_state" and friends
        return np.asarray(reducer.fit_transform(x), dtype=np.float32)
