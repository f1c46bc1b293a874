"""A recipe (filter + exact dedup + MinHash dedup + decontam) replayed with `workbench run`:
the local engine vs the Ray engine on a local instance of 1 and of 2 CPUs (Ray workers).

BENCH_ROWS generated conversations (benchmarks/make_large.py, default 20000; 1000000 for the
issue's size) with 2% exact copies and 2% near copies, against a benchmark of 200 items quoting
rows. The recipe is recorded with the CLI on the first 500 rows. Each contender is one child
`workbench run` on the same file (its Arrow cache made beforehand), fresh workspace each; all
must export the same rows. Peak memory: the largest resident set of any process of the run's
process tree (driver, raylet, Ray workers), and the tree's largest total, sampled every 0.2 s
from /proc (Linux). Ray's start-up (a few seconds) is inside the Ray times.
Prints one JSON line: seconds, rows/s, peak MB, and ratios against the local engine and
Ray 1 CPU -> 2 CPUs.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("BENCH_ROWS", "20000"))
WB = [sys.executable, "-m", "workbench"]


def make_data(d: Path) -> tuple[Path, Path]:
    raw = d / "raw.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(raw), "-n", str(N)],
                   check=True, capture_output=True)
    rng = random.Random(1)
    src, bench_items = d / "data.jsonl", []
    with open(raw, encoding="utf-8") as fin, open(src, "w", encoding="utf-8") as fout:
        earlier: list[str] = []
        for i, line in enumerate(fin):
            r = rng.random()
            if earlier and r < 0.02:  # an exact copy of an earlier row (its own id)
                row = json.loads(rng.choice(earlier))
            elif earlier and r < 0.04:  # a near copy: one word in 20 changed
                row = json.loads(rng.choice(earlier))
                words = row["messages"][-1]["content"].split()
                for _ in range(max(1, len(words) // 20)):
                    words[rng.randrange(len(words))] = "zebra"
                row["messages"][-1]["content"] = " ".join(words)
            else:
                row = json.loads(line)
            row["id"] = f"row-{i}"
            if len(bench_items) < 200 and r > 0.99:
                bench_items.append({"question": " ".join(row["messages"][-1]["content"].split()[:20])})
            if len(earlier) < 5000:
                earlier.append(line)
            fout.write(json.dumps(row) + "\n")
    bench = d / "bench.jsonl"
    bench.write_text("".join(json.dumps(b) + "\n" for b in bench_items))
    return src, bench


def record_recipe(d: Path, src: Path, bench: Path, env: dict) -> Path:
    sample = d / "sample.jsonl"
    with open(src, encoding="utf-8") as f:
        sample.write_text("".join(next(f) for _ in range(min(N, 500))))
    common = [str(sample), "--workspace", str(d / "sample.sqlite")]
    for cmd in (["filter"], ["dedup", "--method", "exact"], ["dedup", "--method", "minhash"],
                ["decontam", "--against", f"{bench}:question"]):
        subprocess.run(WB + cmd[:1] + common + cmd[1:], check=True, capture_output=True, env=env)
    recipe = d / "recipe.yaml"
    subprocess.run(WB + ["recipe", *common, "-o", str(recipe)], check=True, capture_output=True, env=env)
    return recipe


def _tree_rss(root: int) -> list[int]:
    """Resident set (bytes) of `root` and each of its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(p))
        rss[int(p)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(rss.get(pid, 0))
        todo += children.get(pid, [])
    return out


def run(label: str, args: list[str], env: dict) -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen(WB + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = {"process": 0, "tree": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            sizes = _tree_rss(proc.pid)
            peak["process"] = max(peak["process"], max(sizes))
            peak["tree"] = max(peak["tree"], sum(sizes))

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    dt = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"bench_ray: {label} failed: {err.decode()[-2000:]}")
    return {"seconds": round(dt, 2), "rows_per_s": round(N / dt), "peak_process_mb": peak["process"] >> 20,
            "peak_tree_mb": peak["tree"] >> 20}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = dict(os.environ, WORKBENCH_HOME=str(d / "home"), XDG_CACHE_HOME=str(d / "cache"), RAY_AUTH_MODE="disabled")
        src, bench = make_data(d)
        recipe = record_recipe(d, src, bench, env)
        subprocess.run(WB + ["info", str(src)], check=True, capture_output=True, env=env)  # the Arrow cache
        contenders = {"local": ["--engine", "local"], "ray_1": ["--engine", "ray", "--num-cpus", "1"],
                      "ray_2": ["--engine", "ray", "--num-cpus", "2"]}
        res, outputs = {}, {}
        for name, extra in contenders.items():
            out = d / f"out-{name}.jsonl"
            res[name] = run(name, ["run", str(recipe), "--input", str(src), "-o", str(out),
                                   "--workspace", str(d / f"{name}.sqlite"), *extra], env)
            outputs[name] = out.read_bytes()
        same = len(set(outputs.values())) == 1
        kept = outputs["local"].count(b"\n")
    print(json.dumps({
        "bench": "ray", "rows": N, "kept": kept, "same_output": same, **res,
        "ray_2_vs_ray_1": round(res["ray_1"]["seconds"] / res["ray_2"]["seconds"], 2),
        "ray_2_vs_local": round(res["local"]["seconds"] / res["ray_2"]["seconds"], 2),
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
