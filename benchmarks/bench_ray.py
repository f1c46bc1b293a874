"""A recipe (filter + exact dedup + MinHash dedup + decontam) replayed with `workbench run`:
the local engine vs the Ray engine on a local instance of 1 and of 2 CPUs (Ray workers).

    python benchmarks/bench_ray.py [--rows N]     # default 10000; 1000000 is the issue's size

N generated conversations (benchmarks/make_large.py) with 2% exact copies and 2% near copies,
against a benchmark of 200 items quoting rows. The recipe is recorded with the CLI on the
first 500 rows. Each contender is one child `workbench run` on the same file (its Arrow cache
made beforehand), fresh workspace each; all must export the same rows. Peak memory: the
largest resident set of any process of the run's process tree (driver, raylet, Ray workers),
and the tree's largest total; CPU: the tree's user + system seconds; both sampled every 0.2 s
from /proc (Linux); `load_1m`: the load average as the run starts. Ray's start-up (a few
seconds) is inside the Ray times; `fixed` is each contender again on the 500-row sample (its
start-up and per-step fixed costs), and `ray_overhead_factor` Ray's CPU seconds per row over
the local engine's once the fixed costs are taken out: the factor docs/scale.md's plan uses.
`read` is the conversion of the JSON Lines into the Arrow cache (`workbench info`, the reading
every engine pays); `local_steps` times each step alone on the local engine in one process, on
the first 200,000 rows at most (CPU seconds, so rows per CPU-second per step: the per-core
rates docs/scale.md starts from).
Prints one JSON line: seconds, CPU seconds, rows/s, peak MB, and ratios against the local
engine and Ray 1 CPU -> 2 CPUs.

Measured (--rows 1000000, 2 shared vCPUs at load 2.2-3.6, 12 minutes in all; docs/scale.md
has the whole line and the 1B-row plan built on it): the same output from all three; local
176 s, Ray 1 CPU 243 s, 2 CPUs 184 s (1.32x from 1 to 2); Ray's overhead factor 1.35 (1 CPU)
and 1.30 (2); rows per CPU-second local: read 44,000, filter 11,300, exact dedup 113,000,
MinHash 27,000, decontam 87,000. Again after the last engine change, at load 4-9.6: overhead
factors 1.30 and 1.21 (wall times stretched by the load: 20 minutes in all).
"""

from __future__ import annotations

import argparse
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
N = 10000  # set by --rows
SAMPLE = 500  # rows the recipe is recorded on (and the fixed-cost runs replay it on)
STEP_ROWS = 200_000  # rows the per-step timing runs on (its rates are per row)
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
        sample.write_text("".join(next(f) for _ in range(min(N, SAMPLE))))
    common = [str(sample), "--workspace", str(d / "sample.sqlite")]
    for cmd in (["filter"], ["dedup", "--method", "exact"], ["dedup", "--method", "minhash"],
                ["decontam", "--against", f"{bench}:question"]):
        subprocess.run(WB + cmd[:1] + common + cmd[1:], check=True, capture_output=True, env=env)
    recipe = d / "recipe.yaml"
    subprocess.run(WB + ["recipe", *common, "-o", str(recipe)], check=True, capture_output=True, env=env)
    return recipe


def _tree(root: int) -> dict[int, tuple[int, int]]:
    """pid -> (resident bytes, CPU ticks) of `root` and each of its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, int]] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(p))
        stats[int(p)] = (int(fields[21]) * os.sysconf("SC_PAGE_SIZE"), int(fields[11]) + int(fields[12]))
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        out[pid] = stats.get(pid, (0, 0))
        todo += children.get(pid, [])
    return out


def run(label: str, args: list[str], env: dict) -> dict:
    load = os.getloadavg()[0]  # the machine's other work, as the run starts
    t = time.perf_counter()
    proc = subprocess.Popen(WB + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = {"process": 0, "tree": 0}
    ticks: dict[int, int] = {}  # the latest CPU ticks seen per process of the tree
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            tree = _tree(proc.pid)
            peak["process"] = max(peak["process"], max(rss for rss, _ in tree.values()))
            peak["tree"] = max(peak["tree"], sum(rss for rss, _ in tree.values()))
            ticks.update((pid, max(ticks.get(pid, 0), cpu)) for pid, (_, cpu) in tree.items())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    dt = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"bench_ray: {label} failed: {err.decode()[-2000:]}")
    cpu = sum(ticks.values()) / os.sysconf("SC_CLK_TCK")
    return {"seconds": round(dt, 2), "cpu_seconds": round(cpu, 1), "rows_per_s": round(N / dt),
            "rows_per_cpu_s": round(N / cpu) if cpu else None,
            "peak_process_mb": peak["process"] >> 20, "peak_tree_mb": peak["tree"] >> 20,
            "load_1m": round(load, 1)}


STEP_TIMER = """
import json, sys, time
from workbench.data.dataset import Dataset
from workbench.engine.base import Engine
from workbench.ops import registry
from workbench.ops.base import Context
ds = Dataset.open(sys.argv[1])
out = {}
for name, params in json.loads(sys.argv[2]):
    op = registry.get(name)
    cpu, t = time.process_time(), time.perf_counter()
    Engine().compute(op, ds, op.params_from_dict(params), Context())
    cpu, t = time.process_time() - cpu, time.perf_counter() - t
    out[name] = {"seconds": round(t, 2), "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(len(ds) / cpu)}
print(json.dumps(out))
"""


def local_steps(src: Path, bench: Path, env: dict, d: Path) -> dict:
    """Each step of the recipe alone on the local engine, in one child process, on the first
    STEP_ROWS rows (per-row rates; the whole recipe on all rows is the `local` run)."""
    if N > STEP_ROWS:
        with open(src, encoding="utf-8") as f, open(d / "steps.jsonl", "w", encoding="utf-8") as out:
            out.writelines(next(f) for _ in range(STEP_ROWS))
        src = d / "steps.jsonl"
    steps = [("filter", {}), ("dedup-exact", {}), ("dedup-minhash", {}),
             ("decontam", {"against": [f"{bench}:question"]})]
    out = subprocess.run([sys.executable, "-c", STEP_TIMER, str(src), json.dumps(steps)],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    global N
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=N, help=f"generated rows (default {N}; the issue's size is 1000000)")
    N = ap.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = dict(os.environ, WORKBENCH_HOME=str(d / "home"), XDG_CACHE_HOME=str(d / "cache"), RAY_AUTH_MODE="disabled")
        src, bench = make_data(d)
        recipe = record_recipe(d, src, bench, env)
        sample = d / "sample.jsonl"
        # The Arrow cache the local runs open; its CPU time is the reading rate (JSON Lines -> records).
        read = run("read", ["info", str(src)], env)
        run("read_sample", ["info", str(sample)], env)
        contenders = {"local": ["--engine", "local"], "ray_1": ["--engine", "ray", "--num-cpus", "1"],
                      "ray_2": ["--engine", "ray", "--num-cpus", "2"]}
        res, fixed, outputs = {}, {}, {}
        for name, extra in contenders.items():
            out = d / f"out-{name}.jsonl"
            res[name] = run(name, ["run", str(recipe), "--input", str(src), "-o", str(out),
                                   "--workspace", str(d / f"{name}.sqlite"), *extra], env)
            outputs[name] = out.read_bytes()
            # The same on the recipe's 500 rows: what a run costs whatever its size (start-up).
            fixed[name] = run(f"{name} on the sample", ["run", str(recipe), "--input", str(sample), "-o",
                                                        str(d / f"sample-{name}.jsonl"), "--workspace",
                                                        str(d / f"sample-{name}.sqlite"), *extra], env)
        same = len(set(outputs.values())) == 1
        steps = local_steps(src, bench, env, d)
        kept = outputs["local"].count(b"\n")
    rows = N - min(N, SAMPLE)

    def per_row(name: str) -> float:  # CPU seconds per row beyond the fixed cost
        return max(res[name]["cpu_seconds"] - fixed[name]["cpu_seconds"], 0.0) / rows if rows else float("nan")

    print(json.dumps({
        "bench": "ray", "rows": N, "kept": kept, "same_output": same, **res,
        "fixed": {k: {"seconds": v["seconds"], "cpu_seconds": v["cpu_seconds"]} for k, v in fixed.items()},
        "ray_2_vs_ray_1": round(res["ray_1"]["seconds"] / res["ray_2"]["seconds"], 2),
        "ray_2_vs_local": round(res["local"]["seconds"] / res["ray_2"]["seconds"], 2),
        # Ray's CPU per row over the local engine's, fixed costs (the runs on the sample) taken out:
        # the factor docs/scale.md's plan multiplies the local per-step rates by.
        "ray_overhead_factor": {k: round(per_row(k) / per_row("local"), 2) for k in ("ray_1", "ray_2")},
        "read": read, "local_steps": steps,
        "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 1),
    }))


if __name__ == "__main__":
    main()
