"""What the ratio benchmarks share: each side runs in a child process of the same run, and its
wall time and CPU time (the whole process: start-up, imports, reading) are measured from here."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_script(script: str, *args: str) -> dict:
    """Run `python SCRIPT ARGS...`; its last stdout line (JSON), plus its `cpu_seconds`."""
    cpu = children_cpu()
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]), cpu_seconds=children_cpu() - cpu)


def timed(cmd: list[str], **kw) -> tuple[float, float]:
    """Run a command to its end: (wall seconds, CPU seconds)."""
    t, cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t, children_cpu() - cpu


def median_cpu(runs: list[dict]) -> float:
    return statistics.median(r["cpu_seconds"] for r in runs)
