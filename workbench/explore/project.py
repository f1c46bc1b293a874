"""2-D projections of embeddings: PCA (a quick preview) and the topic map's layout, which keeps
the found topics apart."""

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


def topic_layout(x: np.ndarray, labels: np.ndarray, *, rounds: int = 300) -> np.ndarray:
    """(n, 2) float32 map positions that keep the topics `labels` apart and readable.

    A linear projection cannot show twenty topics apart on a plane (on 999 alpaca rows every
    linear 2-D view of 18 topics overlaps most of them), and UMAP or t-SNE take a minute. So:
    each topic is a disc whose area grows with its size, placed where the topics' centres fall
    on their own first two principal components (classical multidimensional scaling of the
    centres), then pushed apart until no two discs overlap; inside its disc a row sits where it
    falls on its topic's own two principal components. Near topics stay near; distances across
    topics are approximate, inside a topic they are linear.
    """
    x = np.asarray(x, dtype=np.float32)
    labels = np.asarray(labels)
    groups, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    if len(groups) < 2:
        return pca(x, 2)
    centres = np.stack([x[inverse == g].mean(axis=0) for g in range(len(groups))])
    pos = pca(centres, 2).astype(np.float64)
    scale = np.abs(pos).max() or 1.0
    pos /= scale
    radius = 0.35 * np.sqrt(sizes / sizes.sum())  # the discs' total area: a fixed share of the plane
    gap = 0.02
    for _ in range(rounds):  # push overlapping discs apart, half the overlap each
        d = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt((d**2).sum(-1))
        need = radius[:, None] + radius[None, :] + gap
        np.fill_diagonal(need, 0)
        overlap = np.clip(need - dist, 0, None)
        if not overlap.any():
            break
        unit = d / np.where(dist > 1e-9, dist, 1)[..., None]
        unit[dist <= 1e-9] = np.random.default_rng(0).normal(size=2)  # coincident centres: any direction
        pos += 0.5 * (overlap[..., None] * unit).sum(axis=1)
    out = np.empty((len(x), 2), dtype=np.float32)
    for g in range(len(groups)):
        members = inverse == g
        local = pca(x[members], 2)
        reach = np.percentile(np.linalg.norm(local, axis=1), 95) if members.sum() > 1 else 0.0
        out[members] = pos[g] + local * (radius[g] / reach if reach > 0 else 0.0)
    return out
