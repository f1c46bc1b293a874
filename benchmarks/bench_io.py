"""Open and iterate a large JSONL chat dataset through Dataset.open, against plain
`json.loads` per line into Python dicts, in the same run.

Phases, each in its own process so that peak memory is its own:
  baseline  every line json.loads'ed into a list of dicts, then iterated
  first     Dataset.open with an empty cache (conversion to Arrow), then every record iterated
  cached    Dataset.open again (memory-mapped cache), then every record iterated

Peak memory is reported twice: peak RSS (which counts touched pages of the memory-mapped
cache, reclaimable by the kernel) and peak anonymous RSS (private memory the process holds).

    python benchmarks/bench_io.py                       # 100,000 rows: about 10 seconds
    BENCH_ROWS=1000000 python benchmarks/bench_io.py    # the million-row figure: about 2 minutes

On 2 shared cores, 100,000 rows: first open + iterate 0.24-0.28x the baseline's speed (0.16x
before the orjson cache text, the paused cycle collector and 1024-row batches), cached 1.5-1.9x
(0.85x before). A million rows: first 0.47x, cached 3.3x (the baseline slows as its 2.7 GB of
dicts grow).

Prints one JSON line: ratios against the baseline (speed > 1 means faster than baseline;
memory < 1 means less), plus the absolute baseline figures for context.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _anon_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def _first_user_chars(turns: list[dict]) -> int:
    """A checksum both sides compute alike (assistant turns differ: reasoning is split out)."""
    return next(len(t["content"]) for t in turns if t["role"] == "user")


def phase(name: str, path: str) -> dict:
    peak_anon = _anon_kb()
    t0 = time.perf_counter()
    n = chars = 0
    opened = 0.0
    if name == "baseline":
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        peak_anon = max(peak_anon, _anon_kb())
        for row in rows:
            n += 1
            chars += _first_user_chars(row["messages"])
    else:
        sys.path.insert(0, str(HERE.parent))
        from workbench.data.dataset import Dataset

        ds = Dataset.open(path)
        opened = time.perf_counter() - t0
        for i, batch in enumerate(ds.iter_batches(1024)):
            for rec in batch:
                n += 1
                chars += _first_user_chars(rec["messages"])
            if i % 64 == 0:
                peak_anon = max(peak_anon, _anon_kb())
    seconds = time.perf_counter() - t0
    peak_anon = max(peak_anon, _anon_kb())
    return {"rows": n, "chars": chars, "seconds": seconds, "open_seconds": opened,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "peak_anon_mb": peak_anon / 1024}


def run_phase(name: str, path: str, home: str) -> dict:
    env = {**os.environ, "WORKBENCH_HOME": home}
    out = subprocess.run([sys.executable, __file__, "--phase", name, path], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--phase":
        print(json.dumps(phase(sys.argv[2], sys.argv[3])))
        return 0
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    with tempfile.TemporaryDirectory(prefix="bench_io_") as tmp:
        path = os.path.join(tmp, "large.jsonl")
        subprocess.run([sys.executable, str(HERE / "make_large.py"), "-o", path, "-n", str(rows)], check=True,
                       capture_output=True)
        home = os.path.join(tmp, "home")
        base = run_phase("baseline", path, home)
        first = run_phase("first", path, home)
        cached = run_phase("cached", path, home)
        assert base["rows"] == first["rows"] == cached["rows"] == rows
        assert base["chars"] == first["chars"] == cached["chars"]  # the same content came out
        size_mb = os.path.getsize(path) / 2**20
    speed = lambda r: base["seconds"] / r["seconds"]  # noqa: E731  rows/s ratio, same row count
    print(json.dumps({
        "bench": "io", "rows": rows, "source_mb": round(size_mb, 1),
        "first_open_iterate_speed": round(speed(first), 3),
        "cached_open_iterate_speed": round(speed(cached), 3),
        "cached_open_only_time": round(cached["open_seconds"] / base["seconds"], 4),
        "first_peak_rss": round(first["peak_rss_mb"] / base["peak_rss_mb"], 3),
        "cached_peak_rss": round(cached["peak_rss_mb"] / base["peak_rss_mb"], 3),
        "first_peak_anon": round(first["peak_anon_mb"] / base["peak_anon_mb"], 3),
        "cached_peak_anon": round(cached["peak_anon_mb"] / base["peak_anon_mb"], 3),
        "baseline": {"rows_per_s": round(rows / base["seconds"]), "peak_rss_mb": round(base["peak_rss_mb"]),
                     "peak_anon_mb": round(base["peak_anon_mb"])},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
