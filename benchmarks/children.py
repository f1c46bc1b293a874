"""What the ratio benchmarks share: each side runs in a child process of the same run, and its
CPU time (the whole process: start-up, imports, reading) is measured from here; its wall time
too for commands and our library's scripts (`timed`, `run_script(whole_process=True)`), while a
baseline's child measures its own time (its start-up left out, which only favours it)."""

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


def run_script(script: str, *args: str, whole_process: bool = False) -> dict:
    """Run `python SCRIPT ARGS...`: its last stdout line (JSON), with the `seconds` the child
    measured itself, plus the whole process's `cpu_seconds`. `whole_process`: `seconds` is the
    whole process's wall time measured from here, as `timed` times a command (start-up, imports
    and exit included), and the child's own figure is kept as `call_seconds`."""
    t, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, check=True)
    wall, cpu = time.perf_counter() - t, children_cpu() - cpu
    got = dict(json.loads(out.stdout.strip().splitlines()[-1]), cpu_seconds=cpu)
    if whole_process:
        got.update(call_seconds=got["seconds"], seconds=wall)
    return got


def timed(cmd: list[str], **kw) -> tuple[float, float]:
    """Run a command to its end: (wall seconds, CPU seconds)."""
    t, cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t, children_cpu() - cpu


def median_cpu(runs: list[dict]) -> float:
    return statistics.median(r["cpu_seconds"] for r in runs)
