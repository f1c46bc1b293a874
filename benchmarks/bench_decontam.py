"""Decontamination scan speed: ours (hashed n-grams, numpy lookups) vs a plain pure-Python check
(a set of word-tuple 13-grams, every position of every row looked up).

Generated rows (BENCH_DOCS, default 50k, about 1 kB each) with planted benchmark passages are
checked against a generated benchmark (BENCH_ITEMS items, default 2000). The pure-Python
check runs on the first BENCH_BASELINE_DOCS rows (default 10k) and is compared as MB/s. Both
must flag the same rows there. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("BENCH_DOCS", "50000"))
N_ITEMS = int(os.environ.get("BENCH_ITEMS", "2000"))
N_BASE = min(N, int(os.environ.get("BENCH_BASELINE_DOCS", "10000")))
NGRAM = 13


def corpus():
    from workbench.ops.synthetic import document

    rng = random.Random(9)
    items = [{"id": f"b{i}", "question": document(rng, rng.randint(30, 80))} for i in range(N_ITEMS)]
    texts = [document(rng, rng.randint(80, 260)) for _ in range(N)]
    planted = set(rng.sample(range(N), max(1, N // 200)))
    for row in planted:
        words = items[rng.randrange(N_ITEMS)]["question"].split()
        cut = rng.randrange(max(1, len(words) - 20))
        texts[row] = texts[row][:200] + " " + " ".join(words[cut : cut + 20]) + " " + texts[row][200:]
    return items, texts, planted


def baseline(items, texts):
    word = re.compile(r"\w+")
    t = time.perf_counter()
    grams = set()
    for it in items:
        ws = word.findall(it["question"].lower())
        grams.update(tuple(ws[i : i + NGRAM]) for i in range(len(ws) - NGRAM + 1))
    built = time.perf_counter() - t
    t = time.perf_counter()
    hits = set()
    for row, text in enumerate(texts):
        ws = word.findall(text.lower())
        if any(tuple(ws[i : i + NGRAM]) in grams for i in range(len(ws) - NGRAM + 1)):
            hits.add(row)
    return hits, built, time.perf_counter() - t


def main() -> None:
    from workbench.ops.decontam import NgramIndex, decontaminate, parse_against

    items, texts, planted = corpus()
    mb = sum(len(t.encode()) for t in texts) / 2**20
    mb_base = sum(len(t.encode()) for t in texts[:N_BASE]) / 2**20
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(it) + "\n" for it in items)
        t = time.perf_counter()
        index = NgramIndex([parse_against(path + ":question")], n=NGRAM)
        ours_build = time.perf_counter() - t
    ids = [str(i) for i in range(N)]
    t = time.perf_counter()
    res = decontaminate(texts, ids, index)
    ours_scan = time.perf_counter() - t
    found = {int(r) for r in res.rejects}
    base_hits, base_build, base_scan = baseline(items, texts[:N_BASE])
    ours_rate = mb / ours_scan
    base_rate = mb_base / base_scan
    print(json.dumps({
        "bench": "decontam",
        "docs": N,
        "mb": round(mb, 1),
        "benchmark_items": N_ITEMS,
        "ours_mb_per_s": round(ours_rate, 2),
        "baseline_mb_per_s": round(base_rate, 2),
        "baseline_docs": N_BASE,
        "speedup": round(ours_rate / base_rate, 2),
        "ours_index_s": round(ours_build, 3),
        "baseline_index_s": round(base_build, 3),
        "planted_found": len(found & planted) / len(planted),
        "flagged_not_planted": len(found - planted),
        "same_rows_as_baseline": {r for r in found if r < N_BASE} == base_hits,
    }))


if __name__ == "__main__":
    main()
