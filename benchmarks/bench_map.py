"""The topic map against the first one (UMAP 2-D + HDBSCAN on a 10-d PCA), measured in the same run.
Prints ONE JSON line.

- planted families (tests/support/families.py: math word problems, Python stubs, harmful requests
  with refusals; BENCH_MAP_FAMILY_ROWS per family, default 100), embedded with the bundled MiniLM:
  adjusted Rand index against the families, topics found, share of rows left unclustered, seconds;
  the first method's first call includes UMAP's import and numba compilation, which every new
  process pays (`old_first_call_s`), and a second call shows it warm;
- a map of BENCH_MAP_ROWS rows (default 10,000): the family rows resampled with their vectors
  jittered (embedding 10k rows takes minutes on this CPU and is cached once done), timed for the
  whole `build_map` (clustering, projection, c-TF-IDF labels) against the first method's
  projection and clustering alone (its labels would come on top).
Ratios are old / new (above 1: the new map is faster). The 10k map's CPU seconds and the load
average are printed beside its wall time: on a shared machine the wall time alone says little.

BENCH_MAP_VARIED=PATH[,PATH...] also maps a varied dataset (files or folders opened together, e.g.
sample_data/ plus LLaMA-Factory's identity.json, or 1,000 rows mixed from its demo files) with
both methods and prints the topics each finds and the share of rows each leaves unclustered.

BENCH_MAP_FILE=rows.jsonl measures real rows instead of the generated families: any dataset file
whose rows carry a `family` field (kept in each record's meta), e.g. GSM8K questions, HumanEval
prompts and AdvBench requests written with their source's name.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="bench_map_"))

import numpy as np  # noqa: E402


def note(msg: str) -> None:
    print(f"[bench_map {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def varied(paths: list[str]) -> dict:
    """Topics found on a varied dataset (no truth to score against) by both methods."""
    from workbench.data.dataset import Dataset
    from workbench.explore.embed import embed_dataset
    from workbench.explore.topicmap import build_map

    ds = Dataset.open(paths)
    note(f"varied set: embedding {len(ds)} rows")
    vecs = embed_dataset(ds, None)
    tm = build_map(ds, vectors=vecs, save=False)
    _, old = old_map(vecs)
    return {"varied_rows": len(ds), "new_varied_topics": int(tm.cluster.max() + 1),
            "new_varied_unclustered": round(float((tm.cluster < 0).mean()), 3),
            "old_varied_topics": int(old.max() + 1), "old_varied_unclustered": round(float((old < 0).mean()), 3)}


def old_map(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first topic map as it shipped: UMAP (30 neighbours, cosine, seed 42) for the picture,
    HDBSCAN (min cluster size 1.5 sqrt(n), halved while nothing clusters) on a 10-d PCA."""
    from sklearn.cluster import HDBSCAN
    from umap import UMAP

    from workbench.explore.cluster import renumber_by_size
    from workbench.explore.project import pca

    n = len(vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xy = UMAP(n_components=2, n_neighbors=min(30, n - 1), min_dist=0.1, metric="cosine", random_state=42,
                  init="spectral").fit_transform(vectors)
    mcs = min(int(max(10, round(1.5 * n**0.5))), max(5, n // 2))
    x10 = pca(vectors, 10).astype(np.float64)
    while True:
        labels = HDBSCAN(min_cluster_size=mcs).fit_predict(x10)
        if (labels >= 0).any() or mcs <= 5:
            return xy, renumber_by_size(labels)
        mcs = max(5, mcs // 2)


def quality(truth: list[str], labels: np.ndarray) -> dict:
    """ARI with each unclustered row a group of its own (scikit-learn would count all of them as
    one group, so a whole family left unclustered would score as if it had been found)."""
    from sklearn.metrics import adjusted_rand_score

    noise = labels < 0
    grouped = np.where(noise, labels.max() + 1 + np.cumsum(noise), labels)
    return {"ari": round(float(adjusted_rand_score(truth, grouped)), 3), "topics": int(labels.max() + 1),
            "unclustered": round(float(noise.mean()), 3)}


def main() -> None:
    import sklearn.cluster  # noqa: F401  both methods use scikit-learn: its import is no one's cost
    import sklearn.discriminant_analysis  # noqa: F401

    from tests.support.families import family_records
    from workbench.data.dataset import Dataset
    from workbench.data.record import view_text
    from workbench.explore.embed import embed_texts
    from workbench.explore.topicmap import build_map

    per = int(os.environ.get("BENCH_MAP_FAMILY_ROWS", "100"))
    big = int(os.environ.get("BENCH_MAP_ROWS", "10000"))
    if os.environ.get("BENCH_MAP_FILE"):
        ds = Dataset.open(os.environ["BENCH_MAP_FILE"])
        recs = ds.records()
        truth = [r["meta"]["family"] for r in recs]
    else:
        recs, truth = family_records(per)
        ds = Dataset.from_records(recs)
    note(f"embedding {len(recs)} planted rows")
    embed_s, vecs = timed(lambda: embed_texts([view_text(r) for r in recs]))

    note("first method (UMAP + HDBSCAN), first call in this process")
    old_first_s, (_, old_labels) = timed(lambda: old_map(vecs))
    old_warm_s, _ = timed(lambda: old_map(vecs))
    note("new map")
    new_s, tm = timed(lambda: build_map(ds, vectors=vecs, save=False))
    res = {"bench": "map", "planted_rows": len(recs), "embed_s": round(embed_s, 2),
           "old_first_call_s": round(old_first_s, 2), "old_warm_s": round(old_warm_s, 2), "new_s": round(new_s, 2),
           **{f"old_{k}": v for k, v in quality(truth, old_labels).items()},
           **{f"new_{k}": v for k, v in quality(truth, tm.cluster).items()},
           "first_call_speedup_ratio": round(old_first_s / new_s, 1)}

    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(recs), big)
    big_recs = [{**recs[i], "id": f"r{j}"} for j, i in enumerate(pick)]
    big_vecs = vecs[pick] + rng.normal(scale=0.02, size=(big, vecs.shape[1])).astype(np.float32)
    big_vecs /= np.linalg.norm(big_vecs, axis=1, keepdims=True)
    big_truth = [truth[i] for i in pick]
    big_ds = Dataset.from_records(big_recs)
    note(f"new map of {big} rows")
    cpu = time.process_time()
    new_big_s, big_tm = timed(lambda: build_map(big_ds, vectors=big_vecs, save=False))
    new_big_cpu_s = time.process_time() - cpu
    load = os.getloadavg()[0]
    note(f"first method on {big} rows (warm)")
    old_big_s, (_, old_big_labels) = timed(lambda: old_map(big_vecs))
    res.update({"rows": big, "new_map_s": round(new_big_s, 2), "new_map_cpu_s": round(new_big_cpu_s, 2),
                "load_avg_1min": round(load, 2), "new_topics_big": int(big_tm.cluster.max() + 1), "old_project_cluster_s": round(old_big_s, 2),
                "new_ari_big": quality(big_truth, big_tm.cluster)["ari"],
                "old_ari_big": quality(big_truth, old_big_labels)["ari"],
                "speedup_ratio": round(old_big_s / new_big_s, 1)})
    if os.environ.get("BENCH_MAP_VARIED"):
        res.update(varied(os.environ["BENCH_MAP_VARIED"].split(",")))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
