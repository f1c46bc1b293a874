"""MinHash near-duplicate dedup: ours (CLI and library) vs rensa's deduplicator and datasketch's
MinHash.bulk + MinHashLSH, the tools a user would pick instead.

One generated corpus (BENCH_DOCS documents, default 100k, 10% of them planted copies with 10% of
their words changed) is written as a JSONL file of text rows. Every contender runs the whole
pipeline in its own child process, from the same texts, with the same settings (word 2-grams,
128 permutations, Jaccard 0.5):
  - ours, CLI: `workbench dedup F --method minhash --dry-run --report R` (wall time of the whole
    command, the file's Arrow cache made beforehand, as on any second command);
  - ours, library: a script calling Dataset.open(F) then dedup_dataset(ds, "minhash"), timed as
    a whole process like the command (`cli_time_over_lib`, target <= 1.10), and in-process from
    before its workbench imports to the result (`cli_time_over_lib_call`);
  - rensa: RMinHash.from_token_sets over the shingle lists, then an RMinHashDeduplicator
    (use_lsh=True), each document's candidates taken before it is added;
  - datasketch: MinHash.bulk over the shingle lists, then MinHashLSH insert/query, on the first
    BENCH_BASELINE_DOCS documents (default 10k; it is slow) and compared as docs/s.
The texts are loaded before the clock starts for the baselines (as a user holding them would);
ours reads the file. ours and rensa alternate for BENCH_REPS rounds (default 2); medians.

Prints one JSON line: docs/s of each, the ratios, and pairwise precision/recall on the planted
duplicates.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from children import median_cpu, run_script, timed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("BENCH_DOCS", "100000"))
N_SKETCH = min(N, int(os.environ.get("BENCH_BASELINE_DOCS", "10000")))
REPS = int(os.environ.get("BENCH_REPS", "2"))
NUM_PERM, THRESHOLD = 128, 0.5
_WORD = re.compile(r"\w+")


def _texts(path: str, limit: int | None = None) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for _, line in zip(range(limit or 10**12), f)]


def _shingles(text: str) -> list[str]:
    ws = _WORD.findall(text.lower())
    return [f"{a} {b}" for a, b in zip(ws, ws[1:])] or ws


def _scores(clusters, n: int, pairs) -> tuple[float, float]:
    from tests.support.synthetic import pair_scores, true_clusters

    return pair_scores(clusters, true_clusters(n, [p for p in pairs if p[1] < n]))


def _union_groups(n: int, edges) -> list[list[int]]:
    """The baselines' candidate edges as clusters of 2 or more, by the same components as ours."""
    import numpy as np

    from workbench.ops.unionfind import components

    edges = list(edges)
    labels = components(n, *(np.array([e[k] for e in edges], dtype=np.int64) for k in (0, 1)))
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def child(mode: str, path: str) -> None:
    if mode == "lib":
        t = time.perf_counter()
        from workbench.data.dataset import Dataset
        from workbench.ops.dedup import dedup_dataset

        ds = Dataset.open(path)
        res = dedup_dataset(ds, "minhash")
        dt = time.perf_counter() - t
        ids = {rid: i for i, rid in enumerate(ds.ids)}
        clusters = [[ids[m] for m in c["members"]] for c in res.report["clusters"]]
        print(json.dumps({"seconds": dt, "docs": len(ds), "clusters": clusters}))
        return
    if mode == "rensa":
        from rensa import RMinHash, RMinHashDeduplicator

        texts = _texts(path)
        t = time.perf_counter()
        mhs = RMinHash.from_token_sets([_shingles(x) for x in texts], NUM_PERM, 42)
        dedup = RMinHashDeduplicator(threshold=THRESHOLD, num_perm=NUM_PERM, use_lsh=True)
        edges = []
        for i, mh in enumerate(mhs):
            edges += [(i, int(k)) for k in dedup.get_duplicates(mh)]
            dedup.add(str(i), mh)
        clusters = _union_groups(len(texts), edges)
        print(json.dumps({"seconds": time.perf_counter() - t, "docs": len(texts), "clusters": clusters}))
        return
    if mode == "datasketch":
        from datasketch import MinHash, MinHashLSH

        texts = _texts(path, N_SKETCH)
        t = time.perf_counter()
        mhs = MinHash.bulk([[s.encode() for s in _shingles(x)] for x in texts], num_perm=NUM_PERM)
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        edges = []
        for i, mh in enumerate(mhs):
            edges += [(i, j) for j in lsh.query(mh)]
            lsh.insert(i, mh)
        clusters = _union_groups(len(texts), edges)
        print(json.dumps({"seconds": time.perf_counter() - t, "docs": len(texts), "clusters": clusters}))
        return
    raise SystemExit(f"unknown mode {mode}")


def _run_cli(path: str, report: str, env: dict) -> dict:
    dt, cpu = timed([sys.executable, "-m", "workbench", "dedup", path, "--method", "minhash", "--dry-run",
                    "--report", report], env=env)
    rep = json.loads(Path(report).read_text())
    ids = {f"{Path(path).name}:{i}": i for i in range(N)}
    clusters = [[ids[m] for m in c["members"]] for c in rep["clusters"]]
    return {"seconds": dt, "cpu_seconds": cpu, "docs": rep["rows"], "clusters": clusters}


def main() -> None:
    from tests.support.synthetic import planted_corpus

    texts, pairs = planted_corpus(N, dup_fraction=0.1, change=0.1, seed=42)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "corpus.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": t}) + "\n" for t in texts)
        mb = os.path.getsize(path) / 2**20
        del texts
        env = dict(os.environ, WORKBENCH_HOME=os.path.join(d, "home"), XDG_CACHE_HOME=os.path.join(d, "cache"))
        os.environ.update(env)  # the library child shares the CLI's cache
        _run_cli(path, os.path.join(d, "r.json"), env)  # makes the Arrow cache every later run reads
        runs: dict[str, list[dict]] = {"cli": [], "lib": [], "rensa": []}
        for _ in range(REPS):  # alternated, so a busy moment hurts both
            runs["cli"].append(_run_cli(path, os.path.join(d, "r.json"), env))
            runs["rensa"].append(run_script(__file__, "rensa", path))
            runs["lib"].append(run_script(__file__, "lib", path, whole_process=True))
        sketch = run_script(__file__, "datasketch", path)
    rate = {k: statistics.median(r["docs"] / r["seconds"] for r in v) for k, v in runs.items()}
    rate["datasketch"] = sketch["docs"] / sketch["seconds"]
    quality = {k: _scores(v[-1]["clusters"], v[-1]["docs"], pairs) for k, v in runs.items()}
    quality["datasketch"] = _scores(sketch["clusters"], sketch["docs"], pairs)
    print(json.dumps({
        "bench": "dedup_minhash",
        "docs": N,
        "corpus_mb": round(mb, 1),
        "ours_cli_docs_per_s": round(rate["cli"]),
        "ours_lib_docs_per_s": round(rate["lib"]),
        # Per second of CPU (all threads, start-up included): what a busy shared machine cannot blur.
        "ours_cli_docs_per_cpu_s": round(statistics.median(r["docs"] / r["cpu_seconds"] for r in runs["cli"])),
        # Whole processes' CPU (start-up, imports and reading included on every side).
        "cli_cpu_over_lib_cpu": round(median_cpu(runs["cli"]) / median_cpu(runs["lib"]), 2),
        "rensa_cpu_over_cli_cpu": round(median_cpu(runs["rensa"]) / median_cpu(runs["cli"]), 2),
        "rensa_docs_per_s": round(rate["rensa"]),
        "datasketch_bulk_docs_per_s": round(rate["datasketch"]),
        "datasketch_docs": sketch["docs"],
        "cli_over_rensa": round(rate["cli"] / rate["rensa"], 2),
        "cli_over_datasketch": round(rate["cli"] / rate["datasketch"], 2),
        "cli_time_over_lib": round(rate["lib"] / rate["cli"], 2),
        "cli_time_over_lib_call": round(N / rate["cli"] / statistics.median(r["call_seconds"] for r in runs["lib"]), 2),
        **{f"{k}_precision": round(v[0], 4) for k, v in quality.items()},
        **{f"{k}_recall": round(v[1], 4) for k, v in quality.items()},
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        child(sys.argv[1], sys.argv[2])
    else:
        main()
