"""Exploration speed, as ratios against baselines measured in the same run. Prints ONE JSON line.

- embedding: our embed_texts and a cold embed_dataset (hashing, cache writes) against a raw
  SentenceTransformer.encode of the same texts (overhead ratios; 1.0 = no overhead);
- cache hit: embed_dataset when every row is cached, against the raw encode of the same rows;
- similar rows: one exact nearest-neighbour query against a plain full matrix-vector product.

Environment: BENCH_EMBED_N (texts to embed, default 1000). The topic map has its own
benchmark, bench_map.py.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="bench_explore_"))

import numpy as np  # noqa: E402

WORDS = ("bread oven recipe python function list galaxy star orbit music guitar chord law court "
         "contract garden soil seed tax income budget fever doctor vaccine train station ticket").split()


def texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"Row {i}: " + " ".join(rng.choice(WORDS, size=int(rng.integers(8, 40)))) for i in range(n)]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def note(msg: str) -> None:
    """Progress on stderr (stdout carries only the JSON line)."""
    print(f"[bench_explore {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bench_embedding(n: int) -> dict:
    from workbench.data.dataset import Dataset
    from workbench.data.record import make_record
    from workbench.explore.embed import embed_dataset, embed_texts, load_model

    ts = texts(n)
    model = load_model()
    embed_texts(ts[:64])  # warm both paths up (threads, allocator)
    raw_s, _ = timed(lambda: model.encode(ts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False))
    ours_s, _ = timed(lambda: embed_texts(ts))
    ds = Dataset.from_records(make_record(id=str(i), kind="text", text=t) for i, t in enumerate(ts))
    cold_s, _ = timed(lambda: embed_dataset(ds))
    hit_s, _ = timed(lambda: embed_dataset(ds))
    return {
        "embed_n": n,
        "raw_sentences_per_s": round(n / raw_s, 1),
        "embed_texts_overhead_ratio": round(ours_s / raw_s, 3),
        "embed_dataset_cold_overhead_ratio": round(cold_s / raw_s, 3),
        "cache_hit_vs_raw_encode_ratio": round(hit_s / raw_s, 4),
        "cache_hit_ms_per_1k_rows": round(hit_s / n * 1e6, 2),
    }


def blobs(n: int, dim: int = 384, k: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    x = centres[rng.integers(0, k, n)] + rng.normal(scale=0.6, size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def bench_similar(n: int = 100_000) -> dict:
    from workbench.explore.similar import nearest

    x = blobs(n)
    q = 123
    base_s = min(timed(lambda: x @ x[q])[0] for _ in range(3))
    ours_s = min(timed(lambda: nearest(x, q, 10))[0] for _ in range(3))
    return {"similar_n": n, "similar_query_ms": round(ours_s * 1e3, 2), "similar_vs_matvec_ratio": round(ours_s / base_s, 2)}


def main() -> None:
    n = int(os.environ.get("BENCH_EMBED_N", "1000"))
    res = {"bench": "explore"}
    note(f"embedding {n} texts")
    res.update(bench_embedding(n))
    note("similar rows")
    res.update(bench_similar())
    print(json.dumps(res))


if __name__ == "__main__":
    main()
