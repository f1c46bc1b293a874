"""First open of a large JSONL chat file, against what a user would pick instead, in the same run.

Phases, each in its own process (so that peak memory is its own), alternated over REPS rounds:
  workbench  Dataset.open with an empty cache: the conversion to the Arrow cache
  datasets   datasets.load_dataset("json") with an empty cache folder (its own Arrow conversion)
  polars     polars.read_ndjson (an in-memory DataFrame, no cache)
  cached     Dataset.open again on the converted cache, then every record iterated

Times are medians over the rounds; ratios are ours / theirs (time < 1: faster; memory < 1: less).
CPU seconds (user + system, from getrusage of the finished child) are reported beside the
wall times, since the machine's cores may be shared. Peak memory is the child's peak RSS and
its peak anonymous RSS (private memory; a memory-mapped cache's pages are not counted there).

    python benchmarks/bench_io.py                       # 100,000 rows, 3 rounds: about a minute of CPU
    BENCH_ROWS=1000000 BENCH_REPS=1 python benchmarks/bench_io.py    # the million-row figure

On 2 cores shared with other work (wall times several times the CPU times), 100,000 rows: first
open 0.72x datasets' time (0.59x its CPU), 0.46x its peak RSS, 0.37x its peak anonymous RSS;
0.96x polars' time (it holds 4x our memory); a cached open + iterating every record 0.17x
datasets' first load. A million rows (one round): 0.50x datasets' time (0.70x its CPU), 0.48x its
peak RSS; polars held 5.9 GB. Before the quick path (orjson lines, plain OpenAI rows built
directly) a first open cost about 5.6 s of CPU at 100,000 rows, now 3.5 s.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHASES = ("workbench", "datasets", "polars")


def _anon_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class _PeakAnon:
    """Samples the process's anonymous RSS every 20 ms (library calls cannot be instrumented)."""

    def __init__(self) -> None:
        self.peak = _anon_kb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _anon_kb())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _anon_kb())


def phase(name: str, path: str, scratch: str) -> dict:
    if name in ("workbench", "cached"):
        sys.path.insert(0, str(HERE.parent))
        from workbench.data.dataset import Dataset
    elif name == "datasets":
        os.environ.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1")
        import datasets
    else:
        import polars
    peak = _PeakAnon()
    t0 = time.perf_counter()
    if name in ("workbench", "cached"):
        ds = Dataset.open(path)
        n = len(ds)
        if name == "cached":
            n = sum(len(batch) for batch in ds.iter_batches(1024))
    elif name == "datasets":
        n = len(datasets.load_dataset("json", data_files=path, split="train", cache_dir=scratch))
    else:
        n = polars.read_ndjson(path).height
    seconds = time.perf_counter() - t0
    return {"rows": n, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_anon_mb": peak.stop() / 1024}


def run_phase(name: str, path: str, scratch: str) -> dict:
    env = {**os.environ, "WORKBENCH_HOME": os.path.join(scratch, "home")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, __file__, "--phase", name, path, scratch], env=env, check=True,
                         capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return res


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--phase":
        print(json.dumps(phase(sys.argv[2], sys.argv[3], sys.argv[4])))
        return 0
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    reps = int(os.environ.get("BENCH_REPS", "3"))
    runs: dict[str, list[dict]] = {p: [] for p in (*PHASES, "cached")}
    with tempfile.TemporaryDirectory(prefix="bench_io_") as tmp:
        path = os.path.join(tmp, "large.jsonl")
        subprocess.run([sys.executable, str(HERE / "make_large.py"), "-o", path, "-n", str(rows)], check=True,
                       capture_output=True)
        size_mb = os.path.getsize(path) / 2**20
        for r in range(reps):
            order = PHASES if r % 2 == 0 else PHASES[::-1]  # alternated: load drifts hit every side alike
            for name in order:
                with tempfile.TemporaryDirectory(prefix=f"{name}_", dir=tmp) as scratch:
                    runs[name].append(run_phase(name, path, scratch))
                    if name == "workbench":
                        runs["cached"].append(run_phase("cached", path, scratch))
    for name, results in runs.items():
        assert all(x["rows"] == rows for x in results), (name, results)  # every reader read every row
    med = {name: {k: statistics.median(x[k] for x in results) for k in ("seconds", "cpu_seconds", "peak_rss_mb",
                                                                         "peak_anon_mb")}
           for name, results in runs.items()}
    ours = med["workbench"]

    def ratios(other: str) -> dict:
        o = med[other]
        return {"time": round(ours["seconds"] / o["seconds"], 3), "cpu": round(ours["cpu_seconds"] / o["cpu_seconds"], 3),
                "peak_rss": round(ours["peak_rss_mb"] / o["peak_rss_mb"], 3),
                "peak_anon": round(ours["peak_anon_mb"] / o["peak_anon_mb"], 3)}

    print(json.dumps({
        "bench": "io", "rows": rows, "source_mb": round(size_mb, 1), "rounds": reps,
        "first_open_vs_datasets": ratios("datasets"), "first_open_vs_polars": ratios("polars"),
        "cached_open_iterate_vs_datasets_first": round(med["cached"]["seconds"] / med["datasets"]["seconds"], 3),
        "seconds": {k: round(v["seconds"], 2) for k, v in med.items()},
        "cpu_seconds": {k: round(v["cpu_seconds"], 2) for k, v in med.items()},
        "peak_rss_mb": {k: round(v["peak_rss_mb"]) for k, v in med.items()},
        "peak_anon_mb": {k: round(v["peak_anon_mb"]) for k, v in med.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
