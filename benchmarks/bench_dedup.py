"""MinHash near-dup detection: ours (vectorised) vs a per-document datasketch loop.

Both read the same generated corpus (BENCH_DOCS documents, default 100k, 10% of them planted
copies with 10% of their words changed) and run the whole pipeline: shingle, hash, LSH, cluster.
The datasketch loop is slow, so it runs on the first BENCH_BASELINE_DOCS documents (default
3000) and is compared as docs/s. Each side runs in its own process so that its peak RSS is its
own; a third process that only loads the texts gives the memory floor.

Prints one JSON line: docs/s of each and their ratio, peak RSS of each and ours over the
floor, and pairwise precision/recall on the planted duplicates (ours on all documents, the
baseline on its subset).
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("BENCH_DOCS", "100000"))
N_BASE = min(N, int(os.environ.get("BENCH_BASELINE_DOCS", "3000")))


def child(mode: str, data: str) -> None:
    with open(data, "rb") as f:
        texts, pairs = pickle.load(f)
    from workbench.ops.synthetic import pair_scores, true_clusters

    out: dict = {}
    if mode == "ours":
        from workbench.ops.minhash import minhash_dedup

        t = time.perf_counter()
        clusters, stats = minhash_dedup(texts)
        dt = time.perf_counter() - t
        p, r = pair_scores([c.members for c in clusters], true_clusters(len(texts), pairs))
        out = {"docs": len(texts), "seconds": dt, "precision": p, "recall": r, "candidates": stats.candidates}
    elif mode == "baseline":
        out = baseline(texts[:N_BASE], [x for x in pairs if x[1] < N_BASE])
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def baseline(texts: list[str], pairs) -> dict:
    """The plain loop: MinHash.update per shingle, then query and insert in a MinHashLSH."""
    import re

    from datasketch import MinHash, MinHashLSH

    from workbench.ops.synthetic import pair_scores, true_clusters

    word = re.compile(r"\w+")
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, text in enumerate(texts):
        ws = word.findall(text.lower())
        m = MinHash(num_perm=128)
        for a, b in zip(ws, ws[1:]):
            m.update(f"{a} {b}".encode())
        for j in lsh.query(m):
            parent[find(i)] = find(j)
        lsh.insert(i, m)
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    dt = time.perf_counter() - t
    found = [g for g in groups.values() if len(g) > 1]
    p, r = pair_scores(found, true_clusters(len(texts), pairs))
    return {"docs": len(texts), "seconds": dt, "precision": p, "recall": r}


def run(mode: str, data: str) -> dict:
    out = subprocess.run([sys.executable, __file__, mode, data], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from workbench.ops.synthetic import planted_corpus

    texts, pairs = planted_corpus(N, dup_fraction=0.1, change=0.1, seed=42)
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "corpus.pkl")
        with open(data, "wb") as f:
            pickle.dump((texts, pairs), f)
        mb = os.path.getsize(data) / 2**20
        del texts
        floor = run("floor", data)
        ours = run("ours", data)
        base = run("baseline", data)
    ours_rate = ours["docs"] / ours["seconds"]
    base_rate = base["docs"] / base["seconds"]
    print(json.dumps({
        "bench": "dedup_minhash",
        "docs": N,
        "corpus_mb": round(mb, 1),
        "ours_docs_per_s": round(ours_rate),
        "baseline_docs_per_s": round(base_rate, 1),
        "baseline_docs": base["docs"],
        "speedup": round(ours_rate / base_rate, 1),
        "ours_peak_rss_mb": round(ours["peak_rss_mb"]),
        "baseline_peak_rss_mb": round(base["peak_rss_mb"]),
        "texts_only_rss_mb": round(floor["peak_rss_mb"]),
        "ours_rss_over_texts": round(ours["peak_rss_mb"] / floor["peak_rss_mb"], 2),
        "precision": round(ours["precision"], 4),
        "recall": round(ours["recall"], 4),
        "baseline_precision": round(base["precision"], 4),
        "baseline_recall": round(base["recall"], 4),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        child(sys.argv[1], sys.argv[2])
    else:
        main()
