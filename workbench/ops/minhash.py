"""Near-duplicate detection with MinHash LSH, vectorised with numpy.

A per-document loop (datasketch's MinHash.update per shingle, then an LSH insert and query)
spends its time in Python. Here a chunk of documents is shingled at once (workbench.ops.hashing),
and the num_perm hash permutations are applied to all of the chunk's shingles as array
operations: h_p(x) = a_p * x + b_p (mod 2**32) with odd a_p over the top 32 bits of each
shingle's hash (32-bit lanes: half the memory traffic of 64-bit ones, and a chance collision of
two shingles moves a Jaccard estimate by far less than its sampling error); the minimum per
document comes from one `minimum.reduceat`.

Only 8 bits of each minimum are kept (b-bit MinHash: a byte of a hash of the minimum):
num_perm bytes per row, so a million rows with 128 permutations hold 128 MB, whatever the
text sizes. Those bytes serve
both the LSH bands (a band is r bytes, so its key is exact, no further hashing) and the
Jaccard estimate of a candidate pair, corrected for chance byte matches:
J = (m - 2**-8) / (1 - 2**-8) where m is the fraction of equal bytes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from workbench.ops.clusters import Cluster, build_clusters
from workbench.ops.hashing import mix64, shingle
from workbench.ops.oprun import Cancelled, iter_text_chunks

_U64 = np.uint64
_CHANCE = 1 / 256  # two unrelated 8-bit minima are equal this often
VERIFY = ("none", "jaccard", "rapidfuzz")
# A block of 8 permutations over ~10k shingles is 640 kB of scratch: it stays in L2 cache.
_PERM_BLOCK = 8
_CACHE_SHINGLES = 10_000


@dataclass
class MinHashParams:
    view: str = "conversation"  # which text: "conversation" (no system prompt), "prompt", "answer" or "all"
    num_perm: int = 128
    # Word 2-grams at Jaccard 0.5, measured on generated text: a copy with 10% of its words
    # replaced keeps 0.64-0.70 (3-grams: 0.50-0.57, too close), unrelated texts stay under 0.05.
    threshold: float = 0.5
    bands: int | None = None  # with rows: the LSH banding; by default chosen from threshold
    rows: int | None = None
    ngram: int = 2
    unit: str = "word"  # "word" or "char"
    verify: str = "none"  # "jaccard" recomputes the true Jaccard of candidate pairs; "rapidfuzz" a text ratio
    verify_threshold: float | None = None  # what the verified similarity must reach (default: threshold)
    keep: str = "longest"  # near-duplicates differ: the most complete, whatever the row order (ops.clusters)
    seed: int = 1
    chunk_size: int = 1024
    workers: int = 2

    def banding(self) -> tuple[int, int]:
        if self.bands and self.rows:
            if self.bands * self.rows > self.num_perm:
                raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
            return self.bands, self.rows
        if self.bands or self.rows:
            raise ValueError("give both bands and rows, or neither (then they follow the threshold)")
        return optimal_banding(self.threshold, self.num_perm)

    def validate(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be >= 2, got {self.num_perm}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be >= 1, got {self.ngram}")
        if self.unit not in ("word", "char"):
            raise ValueError(f"unit must be 'word' or 'char', got {self.unit!r}")
        if self.verify not in VERIFY:
            raise ValueError(f"verify must be one of {', '.join(VERIFY)}, got {self.verify!r}")
        self.banding()


def optimal_banding(threshold: float, num_perm: int, fn_weight: float = 0.9) -> tuple[int, int]:
    """Bands x rows minimising the weighted areas of false positives (below threshold) and
    false negatives (above) of the LSH S-curve, as datasketch does. False negatives weigh more
    here because every candidate pair is checked against the threshold afterwards: a false
    positive costs a comparison, a false negative a missed duplicate."""
    best, best_err = (1, num_perm), float("inf")
    lo = np.linspace(0.0, threshold, 200)
    hi = np.linspace(threshold, 1.0, 200)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - lo**r) ** b, lo)
            fn = np.trapezoid((1 - hi**r) ** b, hi)
            err = (1 - fn_weight) * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, np.iinfo(np.uint32).max, size=num_perm, dtype=np.uint32, endpoint=True) | np.uint32(1)
    b = rng.integers(0, np.iinfo(np.uint32).max, size=num_perm, dtype=np.uint32, endpoint=True)
    return a, b


def signatures(texts: Sequence[str], p: MinHashParams, perms=None) -> tuple[np.ndarray, np.ndarray]:
    """8-bit MinHash signatures (len(texts) x num_perm, uint8) and a mask of texts with shingles."""
    a, b = perms if perms is not None else _permutations(p.num_perm, p.seed)
    h, doc = shingle(texts, p.ngram, p.unit)
    h = (h >> _U64(32)).astype(np.uint32)  # the top bits: mix64 made every bit uniform
    counts = np.bincount(doc, minlength=len(texts))
    has = counts > 0
    sig = np.zeros((len(texts), p.num_perm), dtype=np.uint8)
    rows = np.flatnonzero(has)
    if not len(rows):
        return sig, has
    starts = (np.cumsum(counts) - counts)[has]
    ends = starts + counts[has]
    # Work on runs of documents whose shingles x a block of permutations fit in the CPU cache:
    # three passes over a cached block beat three passes over RAM several times over.
    k = _PERM_BLOCK
    lo = 0
    while lo < len(rows):
        hi = max(lo + 1, int(np.searchsorted(ends, starts[lo] + _CACHE_SHINGLES, side="right")))
        s0, s1 = starts[lo], ends[hi - 1]
        seg = h[s0:s1]
        rel = starts[lo:hi] - s0
        buf = np.empty((k, len(seg)), dtype=np.uint32)
        with np.errstate(over="ignore"):
            for p0 in range(0, p.num_perm, k):
                kk = min(k, p.num_perm - p0)
                work = buf[:kk]
                np.multiply(a[p0 : p0 + kk, None], seg[None, :], out=work)
                np.add(work, b[p0 : p0 + kk, None], out=work)
                mins = np.minimum.reduceat(work, rel, axis=1)
                # The minimum's own top bits are near zero; a hash of it gives a uniform byte.
                sig[rows[lo:hi], p0 : p0 + kk] = (mix64(mins.astype(np.uint64)) >> _U64(56)).astype(np.uint8).T
        lo = hi
    return sig, has


def all_signatures(texts: Sequence[str], p: MinHashParams, progress: Callable[[int], None] | None = None,
                   cancel=None):
    """Signatures of every text, chunk by chunk; two chunks overlap (numpy releases the GIL).
    `cancel` (a threading.Event) stops between chunks with Cancelled."""
    n = len(texts)
    sig = np.zeros((n, p.num_perm), dtype=np.uint8)
    has = np.zeros(n, dtype=bool)
    perms = _permutations(p.num_perm, p.seed)
    done = 0

    def one(start_chunk):
        start, chunk = start_chunk
        s, m = signatures(chunk, p, perms)
        sig[start : start + len(chunk)] = s
        has[start : start + len(chunk)] = m
        return len(chunk)

    def numbered():
        start = 0
        for chunk in iter_text_chunks(texts, p.chunk_size):
            yield start, chunk
            start += len(chunk)

    with ThreadPoolExecutor(max_workers=max(1, p.workers)) as pool:
        pending = []
        for item in numbered():
            if cancel is not None and cancel.is_set():
                raise Cancelled("minhash dedup cancelled")
            pending.append(pool.submit(one, item))
            if len(pending) >= 2 * max(1, p.workers):  # bound the texts held in memory
                done += pending.pop(0).result()
                if progress:
                    progress(done)
        for f in pending:
            done += f.result()
            if progress:
                progress(done)
    return sig, has


def band_keys(sig: np.ndarray, band: int, rows: int) -> np.ndarray:
    """The LSH bucket key (uint64) of each signature row in band `band` of `rows` bytes: the
    bytes themselves when they fit in 8, else a multiplicative hash of them."""
    cols = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
    if rows <= 8:
        padded = np.zeros((len(sig), 8), dtype=np.uint8)
        padded[:, :rows] = cols
        return padded.view(np.uint64).ravel()
    keys = np.zeros(len(sig), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(rows):
            keys = keys * _U64(1099511628211) + cols[:, c].astype(np.uint64)
    return keys


def candidate_pairs(sig: np.ndarray, has: np.ndarray, bands: int, rows: int,
                    groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) that share at least one band: each row is paired with the first row of
    its bucket in every band where it collides. With `groups`, buckets never span two groups."""
    idx = np.flatnonzero(has)
    g = np.zeros(len(idx), np.int8) if groups is None else np.asarray(groups)[idx]
    pairs = []
    for band in range(bands):
        keys = band_keys(sig[idx], band, rows)
        order = np.argsort(keys, kind="stable") if groups is None else np.lexsort((keys, g))
        k, kg = keys[order], g[order]
        equal = (k[1:] == k[:-1]) & (kg[1:] == kg[:-1])
        same = np.flatnonzero(equal) + 1  # positions whose key (and group) equals the previous one
        if not len(same):
            continue
        run_start = np.flatnonzero(np.r_[True, ~equal])
        head = run_start[np.searchsorted(run_start, same, side="right") - 1]
        pairs.append(np.stack([idx[order[head]], idx[order[same]]], axis=1))
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    allp = np.concatenate(pairs)
    allp.sort(axis=1)
    allp = np.unique(allp, axis=0)
    return allp[:, 0], allp[:, 1]


def estimated_jaccard(sig: np.ndarray, a: np.ndarray, b: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    out = np.empty(len(a), dtype=np.float64)
    for s in range(0, len(a), block):
        m = (sig[a[s : s + block]] == sig[b[s : s + block]]).mean(axis=1)
        out[s : s + block] = np.clip((m - _CHANCE) / (1 - _CHANCE), 0.0, 1.0)
    return out


def verified_similarity(texts: Sequence[str], a: np.ndarray, b: np.ndarray, p: MinHashParams) -> np.ndarray:
    """True Jaccard of the shingle sets (or rapidfuzz's ratio of the texts) of each pair."""
    need = np.unique(np.concatenate([a, b])).tolist()
    text_of = {i: texts[i] for i in need}
    if p.verify == "rapidfuzz":
        from rapidfuzz import fuzz

        return np.array([fuzz.ratio(text_of[i], text_of[j]) / 100 for i, j in zip(a.tolist(), b.tolist())])
    h, doc = shingle([text_of[i] for i in need], p.ngram, p.unit)
    bounds = np.searchsorted(doc, np.arange(len(need) + 1))
    sets = {i: set(h[bounds[k] : bounds[k + 1]].tolist()) for k, i in enumerate(need)}
    out = np.empty(len(a))
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist())):
        si, sj = sets[i], sets[j]
        out[k] = len(si & sj) / len(si | sj) if si or sj else 1.0
    return out


@dataclass
class MinHashStats:
    rows: int
    empty: int  # rows with no shingles (left out)
    candidates: int  # pairs sharing a band
    kept_pairs: int  # pairs at or above the threshold
    bands: int
    rows_per_band: int


def minhash_dedup(
    texts: Sequence[str],
    params: MinHashParams | None = None,
    *,
    lengths: Sequence[int] | None = None,
    scores: Sequence[float | None] | None = None,
    progress: Callable[[int], None] | None = None,
    cancel=None,
    groups: np.ndarray | None = None,
    stable_keys: Callable[[list[int]], Sequence[str]] | None = None,
) -> tuple[list[Cluster], MinHashStats]:
    """Clusters of near-duplicate texts (positions in `texts`).

    Candidate pairs from the LSH bands are kept when their similarity — estimated from the
    signatures, or verified (params.verify) — reaches the threshold; members of a cluster
    report the row they matched and that similarity. Rows of different `groups` never match.
    """
    p = params or MinHashParams()
    p.validate()
    bands, rows = p.banding()
    sig, has = all_signatures(texts, p, progress, cancel)
    a, b = candidate_pairs(sig, has, bands, rows, groups)
    sim = estimated_jaccard(sig, a, b)
    n_candidates = len(a)
    if p.verify != "none" and len(a):
        sim = verified_similarity(texts, a, b, p)
    keep = sim >= (p.verify_threshold if p.verify != "none" and p.verify_threshold is not None else p.threshold)
    a, b, sim = a[keep], b[keep], sim[keep]
    if p.keep == "longest" and lengths is None:
        lengths = [len(t) for t in iter_all(texts)]
    clusters = build_clusters(len(texts), a, b, sim, keep=p.keep, lengths=lengths, scores=scores,
                          stable_keys=stable_keys)
    stats = MinHashStats(len(texts), int((~has).sum()), n_candidates, len(a), bands, rows)
    return clusters, stats


def iter_all(texts: Sequence[str]):
    for chunk in iter_text_chunks(texts, 4096):
        yield from chunk


def params_dict(p: MinHashParams) -> dict:
    d = asdict(p)
    d.pop("workers")
    d.pop("chunk_size")
    d["bands"], d["rows"] = p.banding()
    return d
