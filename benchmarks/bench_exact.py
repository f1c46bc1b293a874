"""Exact dedup from the command line: ours vs polars (normalise, hash, is_duplicated), the tool a
user would pick instead.

A generated chat file (BENCH_DOCS rows, default 100k, made by make_large.py; 5% of them copies
of earlier rows with other case, doubled spaces or a trailing newline) is deduplicated on the
conversation without the system prompt. Each contender runs in its own child process from the
same file, alternated for BENCH_REPS rounds (default 5), medians:
  - ours, CLI: `workbench dedup F --method exact --dry-run --report R` (wall time of the whole
    command; the file's Arrow cache made beforehand, as on any second command);
  - ours, library: a script calling Dataset.open + dedup_dataset(ds, "exact"), timed as a whole
    process like the command (`cli_time_over_lib`, target <= 1.10), and in-process from before
    its workbench imports to the result (`cli_time_over_lib_call`: start-up and exit left out);
  - polars: read_ndjson, the non-system turns' contents joined, NFKC, lower case, whitespace
    runs folded and the ends stripped, hash, is_duplicated.
Both must flag the same rows. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N = int(os.environ.get("BENCH_DOCS", "100000"))
REPS = int(os.environ.get("BENCH_REPS", "5"))


def write_file(path: str) -> None:
    import random

    from make_large import row

    rng = random.Random(3)
    rows = []
    for i in range(N):
        if rows and rng.random() < 0.05:
            r = json.loads(json.dumps(rng.choice(rows)))
            r["id"] = f"copy-{i}"
            for m in r["messages"]:
                if m.get("content"):  # (upper case would hide a <think> block from the reader)
                    upper = str.upper if "<think>" not in m["content"] else str.strip
                    m["content"] = rng.choice([upper, lambda s: s.replace(" ", "  "), lambda s: s + "\n"])(m["content"])
            rows.append(r)
        else:
            rows.append(row(rng, i))
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def polars_duplicated(path: str) -> set[int]:
    import polars as pl

    df = pl.read_ndjson(path)
    turns = pl.col("messages").list.eval(
        pl.element().filter(pl.element().struct.field("role") != "system").struct.field("content").drop_nulls())
    text = df.select(turns.list.join("\n").alias("t"))["t"]
    norm = text.str.normalize("NFKC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    dup = norm.hash().is_duplicated()
    return set(dup.arg_true().to_list())


def child(mode: str, path: str) -> None:
    t = time.perf_counter()
    if mode == "polars":
        rows = polars_duplicated(path)
    else:
        from workbench.data.dataset import Dataset
        from workbench.ops.dedup import dedup_dataset

        ds = Dataset.open(path)
        res = dedup_dataset(ds, "exact")
        pos = {rid: i for i, rid in enumerate(ds.ids)}
        rows = {pos[m] for c in res.report["clusters"] for m in c["members"]}
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": sorted(rows)}))


def _cli(path: str, report: str, ids: dict[str, int]) -> dict:
    from children import timed

    dt, cpu = timed([sys.executable, "-m", "workbench", "dedup", path, "--method", "exact", "--dry-run",
                    "--report", report])
    rows = {ids[m] for c in json.loads(Path(report).read_text())["clusters"] for m in c["members"]}
    return {"seconds": dt, "cpu_seconds": cpu, "rows": sorted(rows)}


def main() -> None:
    import statistics
    import tempfile

    from children import median_cpu, run_script

    with tempfile.TemporaryDirectory() as d:
        os.environ["WORKBENCH_HOME"] = os.path.join(d, "home")  # the children share this cache
        path, report = os.path.join(d, "chat.jsonl"), os.path.join(d, "r.json")
        write_file(path)
        with open(path, encoding="utf-8") as f:
            ids = {json.loads(line)["id"]: i for i, line in enumerate(f)}
        _cli(path, report, ids)  # makes the Arrow cache every later run reads
        runs: dict[str, list[dict]] = {"cli": [], "lib": [], "polars": []}
        for _ in range(REPS):
            runs["cli"].append(_cli(path, report, ids))
            runs["polars"].append(run_script(__file__, "polars", path))
            runs["lib"].append(run_script(__file__, "lib", path, whole_process=True))
    rate = {k: statistics.median(N / r["seconds"] for r in v) for k, v in runs.items()}
    ours = set(runs["cli"][-1]["rows"])
    print(json.dumps({
        "bench": "dedup_exact",
        "rows": N,
        "ours_cli_rows_per_s": round(rate["cli"]),
        "ours_lib_rows_per_s": round(rate["lib"]),
        # Per second of CPU (all threads, start-up included): what a busy shared machine cannot blur.
        "ours_cli_rows_per_cpu_s": round(statistics.median(N / r["cpu_seconds"] for r in runs["cli"])),
        # Whole processes' CPU (start-up, imports and reading included on every side).
        "cli_cpu_over_lib_cpu": round(median_cpu(runs["cli"]) / median_cpu(runs["lib"]), 2),
        "polars_cpu_over_cli_cpu": round(median_cpu(runs["polars"]) / median_cpu(runs["cli"]), 2),
        "polars_rows_per_s": round(rate["polars"]),
        "cli_over_polars": round(rate["cli"] / rate["polars"], 2),
        "cli_time_over_lib": round(rate["lib"] / rate["cli"], 2),
        "cli_time_over_lib_call": round(N / rate["cli"] / statistics.median(r["call_seconds"] for r in runs["lib"]), 2),
        "duplicate_rows": len(ours),
        "same_rows_as_polars": ours == set(runs["polars"][-1]["rows"]),
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        child(sys.argv[1], sys.argv[2])
    else:
        main()
