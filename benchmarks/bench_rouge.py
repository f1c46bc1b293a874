"""ROUGE-L novelty checks: the rapidfuzz-backed pool against the pure-Python dynamic programme
it replaced (the baseline: what workbench/ops/generation/rouge.py did by hand), same run.

Prints one JSON line:
  pool, candidates            sizes (a self-instruct pool of instructions, candidates checked)
  python_checks_per_s         baseline: max ROUGE-L of a candidate over the pool, pure Python
                              (two-row LCS on word ids, with the length bound that skips pairs)
  rapidfuzz_vs_python         RougePool.max_score checks/s / baseline
  same_scores                 both give the same maximum for every candidate
`--quick` runs smaller sizes.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.ops.generation.rouge import RougePool, tokens  # noqa: E402

QUICK = "--quick" in sys.argv
POOL, CANDS = (300, 20) if QUICK else (2000, 50)
VOCAB = [f"w{i}" for i in range(800)] + "write explain list the a of to in for with how why what".split() * 30


def text(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(6, 30)))


def python_max(cand: list[int], pool: list[list[int]]) -> float:
    n, best = len(cand), 0.0
    for ref in pool:
        m = len(ref)
        if not m or 2 * min(n, m) / (n + m) <= best:
            continue
        prev = [0] * (m + 1)
        for x in cand:
            cur = [0]
            for j, y in enumerate(ref):
                cur.append(prev[j] + 1 if x == y else (prev[j + 1] if prev[j + 1] > cur[j] else cur[j]))
            prev = cur
        best = max(best, 2 * prev[-1] / (n + m))
    return best


def main() -> None:
    rng = random.Random(0)
    pool_texts, cands = [text(rng) for _ in range(POOL)], [text(rng) for _ in range(CANDS)]
    ids: dict[str, int] = {}
    enc = lambda t: [ids.setdefault(w, len(ids)) for w in tokens(t)]  # noqa: E731
    py_pool = [enc(t) for t in pool_texts]
    t0 = time.perf_counter()
    py = [python_max(enc(c), py_pool) for c in cands]
    py_rate = CANDS / (time.perf_counter() - t0)
    pool = RougePool(pool_texts)
    pool.max_score(cands[0])  # imports rapidfuzz and numpy outside the timing
    t0 = time.perf_counter()
    rf = [pool.max_score(c) for c in cands]
    rf_rate = CANDS / (time.perf_counter() - t0)
    print(json.dumps({"pool": POOL, "candidates": CANDS, "python_checks_per_s": round(py_rate, 1),
                      "rapidfuzz_vs_python": round(rf_rate / py_rate, 1),
                      "same_scores": all(abs(a - b) < 1e-12 for a, b in zip(py, rf))}))


if __name__ == "__main__":
    main()
