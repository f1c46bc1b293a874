"""Topics of rows: k-means over the embeddings, with k read from a Ward tree of a sample.

Why this method: UMAP + HDBSCAN (the first topic map) left 20-36% of rows unclustered, merged
whole families of rows and found 2 topics in 999 varied alpaca rows, and UMAP's numba
compilation cost a minute on first use. Here every row gets a topic and nothing is compiled:
1. the unit-length embeddings go through a 50-d PCA (the k-means and distance costs shrink 8x;
   on real data the silhouette curve keeps its shape);
2. a Ward tree over a seeded sample of at most 1,500 rows gives every cut from 2 to `max_topics(n)`
   topics at once. When one cut stands out -- merging its k groups costs at least JUMP (1.3)
   times the merge before it, so the groups lie much further apart than anything inside them --
   that cut is taken (the largest such jump); without a jump, the cut with the best mean
   silhouette (Rousseeuw 1987). A group of the cut about as spread out as the whole (at least
   VARIED, 0.9, of its mean squared distance to the centre) is a varied rest when it is the only
   such group or holds more than half of the rows: the cut only peeled tight groups off it, so
   it is split again by the same rule, with `max_topics` of its share of the rows, whichever way
   (jump or silhouette) it was cut off. Several varied groups of a cut are its topics: the cut
   divided varied rows, and splitting them again would go on down to groups of a few rows;
3. k-means over all rows, started from that cut's centres, gives the final topics.
Measured: on 480 real rows of three families (GSM8K questions, HumanEval stubs, AdvBench
requests) the jump at k = 3 is 2.26 (adjusted Rand index 1.0 against the families); on
generated families whose rows come from a few templates each, the silhouette keeps rising with
k (templates are tight sub-groups) while the jump at 3 is 1.44 and each family keeps at most
0.79 of the whole's spread. On varied rows the jump peels off a tight group and leaves the rest
as spread out as before (0.97-1.01): 46 rows of LLaMA-Factory's identity.json (self-introductions,
English and Chinese) among the 110 sample_data rows, or 98 Chinese rows among 1,000 mixed
LLaMA-Factory demo rows (the English MiniLM puts every Chinese row together). Taking that jump
gave 3 and 2 topics; splitting the rest gives 9 and 22. The rest can be peeled again: on 641
rows (sample_data and seven LLaMA-Factory demo files) the jump took 75 identity rows off, then
the rest's best silhouette took 48 tool-call rows off a rest of 518 (0.97 of its spread); taking
that cut left 494 rows (77%) in one topic, splitting it again gives 17 topics, the largest 12%.
On 999 alpaca rows no jump passes 1.22, and the silhouette, flat and low, is best at 18 topics.
"""

from __future__ import annotations

import numpy as np

NOISE = -1  # "in no topic": maps saved by older versions (HDBSCAN) still carry it
CLUSTER_DIMS = 50
SAMPLE_ROWS = 1500
MAX_TOPICS = 60
JUMP = 1.3
VARIED = 0.9


def max_topics(n: int) -> int:
    """The most topics tried for n rows: sqrt(n / 2), 15 at 480 rows, 22 at 1k, capped at 60."""
    return int(min(MAX_TOPICS, max(2, round((n / 2) ** 0.5))))


def candidate_ks(k_max: int) -> list[int]:
    """Topic counts to try: every k up to 12, then steps of about 15% (a silhouette per count is
    the costly part; 22 counts instead of 59 up to 60)."""
    ks, k = [], 2
    while k <= k_max:
        ks.append(k)
        k = k + 1 if k < 12 else max(k + 1, round(k * 1.15))
    return ks


def reduce(x: np.ndarray, dims: int = CLUSTER_DIMS) -> np.ndarray:
    """Unit-length rows, then their top `dims` principal components: (n, min(dims, d)) float32."""
    from workbench.explore.project import pca

    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1)
    return pca(x, min(dims, x.shape[1]))


def choose_cut(x: np.ndarray, n: int, sample: int = SAMPLE_ROWS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of `x`'s rows (positions, sorted) and the sample's topics (0..k-1) by the
    rule of the module's docstring; `n` rows are represented (it sets `max_topics`)."""
    rows = np.sort(np.random.default_rng(seed).choice(len(x), min(sample, len(x)), replace=False))
    return rows, split(x[rows].astype(np.float64), n)


def split(s: np.ndarray, n: int) -> np.ndarray:
    """Topics (0..k-1) of the rows `s` (float64), standing for `n` rows (the docstring's step 2)."""
    from scipy.cluster.hierarchy import fcluster, ward

    k_max = min(max_topics(n), len(s) - 1)
    if k_max < 2:
        return np.zeros(len(s), dtype=np.int64)
    tree = ward(s)
    heights = tree[:, 2]  # merge i takes the tree from len(s) - i to len(s) - i - 1 groups
    jumps = {k: heights[-(k - 1)] / heights[-k] for k in range(2, k_max + 1) if heights[-k] > 0}
    best_jump = max(jumps, key=lambda k: (jumps[k], -k), default=None)
    if best_jump is not None and jumps[best_jump] >= JUMP:
        cut = fcluster(tree, best_jump, "maxclust") - 1
    else:
        cut = best_silhouette_cut(s, tree, k_max)
    if cut.max() == 0:
        return cut
    whole = spread(s)
    groups = [cut == g for g in range(int(cut.max()) + 1)]
    varied = [m for m in groups if spread(s[m]) >= VARIED * whole]
    out = cut.copy()
    for members in varied:
        if len(varied) == 1 or members.mean() > 0.5:
            out[members] = out.max() + 1 + split(s[members], round(n * members.mean()))
    return np.unique(out, return_inverse=True)[1]


def best_silhouette_cut(s: np.ndarray, tree: np.ndarray, k_max: int) -> np.ndarray:
    """The cut of the Ward `tree` of rows `s` with the best mean silhouette among 2..k_max topics
    (all rows in topic 0 when no cut has its k groups)."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.spatial.distance import pdist, squareform

    dist = squareform(pdist(s)).astype(np.float32)
    scores, cuts = {}, {}
    for k in candidate_ks(k_max):
        cut = fcluster(tree, k, "maxclust") - 1
        if len(np.unique(cut)) == k:
            scores[k], cuts[k] = silhouette(dist, cut), cut
    if not scores:
        return np.zeros(len(s), dtype=np.int64)
    return cuts[max(scores, key=lambda kk: (scores[kk], -kk))]


def spread(x: np.ndarray) -> float:
    """Mean squared distance of the rows `x` to their centre."""
    return float(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean())


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987) from a square distance matrix and labels 0..k-1, as
    scikit-learn's silhouette_score(metric="precomputed") gives it (a row alone in its cluster
    scores 0), in one matrix product: sklearn's checks of the matrix cost more than this."""
    k = int(labels.max()) + 1
    onehot = np.zeros((len(labels), k), dtype=dist.dtype)
    onehot[np.arange(len(labels)), labels] = 1
    sums = dist @ onehot  # (n, k): each row's summed distance to every cluster
    counts = onehot.sum(axis=0)
    own = counts[labels]
    a = sums[np.arange(len(labels)), labels] / np.maximum(own - 1, 1)
    others = sums / counts
    others[np.arange(len(labels)), labels] = np.inf
    b = others.min(axis=1)
    sil = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(sil.mean())


def topics(r: np.ndarray, k: int | None = None, *, seed: int = 0) -> np.ndarray:
    """Topic id of every row (0..k-1, biggest first) from `r = reduce(embeddings)` (n, dims).

    `k` None chooses the number of topics (see the module's docstring); fewer than 4 rows are
    all topic 0.
    """
    from sklearn.cluster import KMeans

    r = np.asarray(r, dtype=np.float32)
    n = len(r)
    if n < 4:
        return np.zeros(n, dtype=np.int64)
    if k is None:
        rows, cut = choose_cut(r, n, seed=seed)
        k = int(cut.max()) + 1
        if k < 2:
            return np.zeros(n, dtype=np.int64)
        init = np.stack([r[rows][cut == c].mean(axis=0) for c in range(k)])
        km = KMeans(n_clusters=k, init=init, n_init=1, random_state=seed)
    else:
        k = max(1, min(int(k), n))
        km = KMeans(n_clusters=k, n_init=3, random_state=seed)
    return renumber_by_size(km.fit_predict(r))


def renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber cluster ids so that 0 is the largest cluster; noise stays -1."""
    labels = np.asarray(labels)
    ids, sizes = np.unique(labels[labels != NOISE], return_counts=True)
    order = ids[np.lexsort((ids, -sizes))]
    mapping = np.full(labels.max() + 2 if len(labels) else 1, NOISE, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return np.where(labels == NOISE, NOISE, mapping[labels])
