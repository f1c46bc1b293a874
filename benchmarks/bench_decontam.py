"""Decontamination from the command line: ours vs the check a user would write instead, a hashed
rolling n-gram scan in polars + numpy.

A generated SFT file (BENCH_DOCS chat rows, default 100k, ~1 kB each; one row in 200 holds a
20-word passage of a benchmark item) is checked against a generated benchmark (BENCH_ITEMS
items, default 1300, GSM8K's test size) for shared 13-grams. Each contender runs in its own
child process from the same files, alternated for BENCH_REPS rounds (default 5), medians:
  - ours, CLI: `workbench decontam F --against B:question --dry-run` (wall time of the whole
    command; the file's Arrow cache made beforehand, as on any second command);
  - ours, library: a script calling Dataset.open + NgramIndex + decontaminate, timed as a whole
    process like the command (`cli_time_over_lib`, target <= 1.10), and in-process from before
    its workbench imports to the result (`cli_time_over_lib_call`: start-up and exit left out);
  - polars + numpy: read_ndjson, join the turns' contents, lower-case, extract words, hash them
    (Series.hash), rolling 13-gram hashes with numpy, np.isin against the benchmark's.
MB/s counts the UTF-8 bytes of the rows' text (every turn); the CLI's MB per CPU-second (user +
system, every thread) is printed too. Both must flag the same rows.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("BENCH_DOCS", "100000"))
N_ITEMS = int(os.environ.get("BENCH_ITEMS", "1300"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
NGRAM = 13


def write_files(d: str) -> tuple[str, str, set[int], float]:
    import random

    from tests.support.synthetic import document

    rng = random.Random(9)
    items = [{"id": f"b{i}", "question": document(rng, rng.randint(30, 80))} for i in range(N_ITEMS)]
    planted = set(rng.sample(range(N), max(1, N // 200)))
    data, mb = os.path.join(d, "train.jsonl"), 0
    with open(data, "w", encoding="utf-8") as f:
        for row in range(N):
            q, a = document(rng, rng.randint(10, 40)), document(rng, rng.randint(60, 200))
            if row in planted:
                words = items[rng.randrange(N_ITEMS)]["question"].split()
                cut = rng.randrange(max(1, len(words) - 20))
                q += " " + " ".join(words[cut : cut + 20])
            mb += len(q.encode()) + len(a.encode()) + 1
            f.write(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}) + "\n")
    bench = os.path.join(d, "bench.jsonl")
    with open(bench, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(it) + "\n" for it in items)
    return data, bench, planted, mb / 2**20


def polars_check(data: str, bench: str) -> set[int]:
    """What a user would write: hashed words, numpy rolling n-gram hashes, np.isin."""
    import numpy as np
    import polars as pl

    def word_hashes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        words = texts.str.to_lowercase().str.extract_all(r"\w+")
        lens = words.list.len().fill_null(0).to_numpy().astype(np.int64)
        return words.explode().drop_nulls().hash(seed=0).to_numpy(), lens

    def ngrams(h: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(h) < NGRAM:
            return np.empty(0, np.uint64), np.empty(0, np.int64)
        with np.errstate(over="ignore"):
            g = np.zeros(len(h) - NGRAM + 1, dtype=np.uint64)
            for k in range(NGRAM):
                g = g * np.uint64(1000003) + h[k : len(h) - NGRAM + 1 + k]
        row = np.repeat(np.arange(len(lens)), lens)
        ok = row[: len(g)] == row[NGRAM - 1 :]
        return g[ok], row[: len(g)][ok]

    items = pl.read_ndjson(bench)["question"]
    bench_grams, _ = ngrams(*word_hashes(items))
    df = pl.read_ndjson(data)
    texts = df.select(pl.col("messages").list.eval(pl.element().struct.field("content")).list.join("\n"))["messages"]
    grams, row = ngrams(*word_hashes(texts))
    return set(np.unique(row[np.isin(grams, bench_grams)]).tolist())


def child(mode: str, data: str, bench: str) -> None:
    t = time.perf_counter()
    if mode == "polars":
        rows = polars_check(data, bench)
    else:
        from workbench.data.dataset import Dataset
        from workbench.ops.decontam import NgramIndex, decontaminate, parse_against
        from workbench.ops.oprun import DatasetTexts

        ds = Dataset.open(data)
        res = decontaminate(DatasetTexts(ds, "all"), ds.ids, NgramIndex([parse_against(bench + ":question")], NGRAM))
        rows = {int(r.rsplit(":", 1)[1]) for r in res.rejects}
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": sorted(rows)}))


def _cli(data: str, bench: str, report: str) -> dict:
    from children import timed

    dt, cpu = timed([sys.executable, "-m", "workbench", "decontam", data, "--against", bench + ":question",
                    "--dry-run", "--report", report])
    rows = {int(r.rsplit(":", 1)[1]) for r in {h["row"] for h in json.loads(Path(report).read_text())["hits"]}}
    return {"seconds": dt, "cpu_seconds": cpu, "rows": sorted(rows)}


def main() -> None:
    import statistics
    import tempfile

    from children import median_cpu, run_script

    with tempfile.TemporaryDirectory() as d:
        os.environ["WORKBENCH_HOME"] = os.path.join(d, "home")  # the children share this cache
        data, bench, planted, mb = write_files(d)
        report = os.path.join(d, "r.json")
        _cli(data, bench, report)  # makes the Arrow cache every later run reads
        runs: dict[str, list[dict]] = {"cli": [], "lib": [], "polars": []}
        for _ in range(REPS):
            runs["cli"].append(_cli(data, bench, report))
            runs["polars"].append(run_script(__file__, "polars", data, bench))
            runs["lib"].append(run_script(__file__, "lib", data, bench, whole_process=True))
    rate = {k: statistics.median(mb / r["seconds"] for r in v) for k, v in runs.items()}
    found = set(runs["cli"][-1]["rows"])
    print(json.dumps({
        "bench": "decontam",
        "docs": N,
        "mb": round(mb, 1),
        "benchmark_items": N_ITEMS,
        "ours_cli_mb_per_s": round(rate["cli"], 2),
        "ours_lib_mb_per_s": round(rate["lib"], 2),
        # Per second of CPU (all threads, start-up included): what a busy shared machine cannot blur.
        "ours_cli_mb_per_cpu_s": round(statistics.median(mb / r["cpu_seconds"] for r in runs["cli"]), 2),
        # Whole processes' CPU (start-up, imports and reading included on every side).
        "cli_cpu_over_lib_cpu": round(median_cpu(runs["cli"]) / median_cpu(runs["lib"]), 2),
        "polars_cpu_over_cli_cpu": round(median_cpu(runs["polars"]) / median_cpu(runs["cli"]), 2),
        "polars_numpy_mb_per_s": round(rate["polars"], 2),
        "cli_over_polars": round(rate["cli"] / rate["polars"], 2),
        "cli_time_over_lib": round(rate["lib"] / rate["cli"], 2),
        "cli_time_over_lib_call": round(mb / rate["cli"] / statistics.median(r["call_seconds"] for r in runs["lib"]), 2),
        "planted_found": round(len(found & planted) / len(planted), 4),
        "flagged_not_planted": len(found - planted),
        "same_rows_as_polars": found == set(runs["polars"][-1]["rows"]),
        "same_rows_cli_and_lib": found == set(runs["lib"][-1]["rows"]),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 4:
        child(*sys.argv[1:])
    else:
        main()
