"""Verified outputs: run code answers against their tests, check math answers against a reference.

Code runs in a child Python process in a fresh temporary directory with CPU-time, memory,
file-size and wall-clock limits (resource.setrlimit), an environment stripped of everything
(no API keys reach untrusted code) and no network: in a new network namespace when `unshare`
can make one, and in every case with the socket module disabled before the code runs.

Where the tests and references come from: the row's meta (the source's own fields):
code tests in `test` / `tests` / `test_list` / `test_code` (plus `entry_point` for
HumanEval-style `check(candidate)` tests), math references in `reference` / `final_answer` /
`ground_truth` / `answer` / `solution`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

from workbench.data.record import Record
from workbench.ops.generation.common import OpResult, answer, errors_of, rows_with_turns, run_rows

OP = "verify"
TEST_KEYS = ("test", "tests", "test_list", "test_code")
REFERENCE_KEYS = ("reference", "final_answer", "ground_truth", "answer", "solution")

# Runs first in the child: no sockets of any kind, then the program as __main__.
_BOOT = r"""
import socket, _socket, sys, runpy
class _NoNetwork(OSError):
    pass
def _blocked(*a, **k):
    raise _NoNetwork("network access is disabled while verifying")
for _m in (socket, _socket):
    for _name in ("socket", "create_connection", "getaddrinfo", "socketpair", "fromfd", "create_server"):
        if hasattr(_m, _name):
            setattr(_m, _name, _blocked)
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...]:
    """`unshare -rn` (new user + network namespace) if this machine allows it, else nothing."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    try:
        ok = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (exe, "-rn") if ok else ()


def _limits(cpu_seconds: int, memory_mb: int):
    def apply() -> None:
        import resource

        os.setsid()  # own process group, so a timeout kills its children too
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_python(program: str, *, timeout: float = 10.0, memory_mb: int = 512) -> dict:
    """Run `program` in a sandboxed child; {"ok", "returncode", "output", "reason"}."""
    with tempfile.TemporaryDirectory(prefix="wb-verify-") as d:
        path = os.path.join(d, "program.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        cmd = [*_unshare_prefix(), sys.executable, "-I", "-S", "-c", _BOOT, path]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "HOME": d}
        proc = subprocess.Popen(cmd, cwd=d, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, preexec_fn=_limits(int(timeout) + 1, memory_mb))
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return {"ok": False, "returncode": None, "output": _tail(out), "reason": f"timed out after {timeout:g} s"}
        rc = proc.returncode
        reason = None if rc == 0 else ("killed by a resource limit" if rc < 0 else f"exit status {rc}")
        if rc != 0 and b"MemoryError" in out:
            reason = "out of memory"
        return {"ok": rc == 0, "returncode": rc, "output": _tail(out), "reason": reason}


def _tail(out: bytes, n: int = 600) -> str:
    return out.decode("utf-8", "replace")[-n:]


_FENCE = re.compile(r"```[ \t]*(python|py|python3)?[ \t]*\n(.*?)```", re.S | re.I)


def extract_code(text: str) -> str:
    """The Python in an answer: its fenced blocks (python-labelled first), else the whole text."""
    blocks = _FENCE.findall(text)
    py = [b for lang, b in blocks if lang]
    chosen = py or [b for _, b in blocks]
    return "\n\n".join(chosen).strip() if chosen else text.strip()


def tests_of(rec: Record) -> str | None:
    meta = rec.get("meta") or {}
    for k in TEST_KEYS:
        v = meta.get(k)
        if isinstance(v, list) and v:
            return "\n".join(str(t) for t in v)
        if isinstance(v, str) and v.strip():
            entry = meta.get("entry_point")
            return v + (f"\n\ncheck({entry})\n" if entry and "def check(" in v else "")
    return None


def reference_of(rec: Record) -> str | None:
    meta = rec.get("meta") or {}
    for k in REFERENCE_KEYS:
        v = meta.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, str) and v.strip():
            return v
    return None


def verify_code(answer_text: str, tests: str, *, timeout: float = 10.0, memory_mb: int = 512) -> dict:
    res = run_python(extract_code(answer_text) + "\n\n" + tests + "\n", timeout=timeout, memory_mb=memory_mb)
    return {"passed": res["ok"], "kind": "code", "detail": res["reason"] or "tests passed",
            "output": res["output"]}


_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_MARKERS = (re.compile(r"####\s*(.+)"), re.compile(r"final answer\s*(?:is)?\s*[:=]?\s*(.+)", re.I),
            re.compile(r"(?:the )?answer is\s*[:=]?\s*(.+)", re.I))
_NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")


def final_answer(text: str) -> str | None:
    """The final answer a solution states: \\boxed{..}, '#### x', 'final answer: x',
    'the answer is x', else its last number."""
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1].strip()
    for pat in _MARKERS:
        found = pat.findall(text)
        if found:
            # "The answer is 42." names 42: the full stop ends the sentence, not the number
            return found[-1].strip().splitlines()[0].strip().rstrip(".!;,").strip()
    nums = _NUM.findall(text)
    return nums[-1] if nums else None


def _as_number(s: str) -> Fraction | None:
    s = s.strip().strip("$ .").replace(",", "").replace("\\%", "").rstrip("%")
    m = _NUM.fullmatch(s) or (_NUM.search(s) if len(_NUM.findall(s)) == 1 and len(s) < 40 else None)
    if not m:
        return None
    try:
        return Fraction(m.group(0).replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def same_answer(got: str, want: str) -> bool:
    a, b = _as_number(got), _as_number(want)
    if a is not None and b is not None:
        return abs(a - b) <= Fraction(1, 10**6) * max(1, abs(b))
    norm = lambda s: re.sub(r"[\s$.{}\\]|\\text", "", s.lower())  # noqa: E731
    return norm(got) == norm(want)


def verify_math(answer_text: str, reference: str) -> dict:
    want = final_answer(reference) or reference.strip()
    got = final_answer(answer_text)
    if got is None:
        return {"passed": False, "kind": "math", "detail": "no final answer found"}
    ok = same_answer(got, want)
    return {"passed": ok, "kind": "math", "detail": f"{got} {'=' if ok else '!='} {want}"}


def verifier_for(rec: Record):
    """A function answer_text -> verdict for this row, or None if the row has nothing to check against."""
    tests = tests_of(rec)
    if tests:
        return lambda text: verify_code(text, tests)
    ref = reference_of(rec)
    if ref:
        return lambda text: verify_math(text, ref)
    return None


def verify(records: Sequence[Record], ws, *, concurrency: int = 2, on_event=None, cancel=None) -> OpResult:
    """Check every row's answer; signals `verify.passed` (bool) and `verify.detail`."""
    usable, errors = rows_with_turns(records, need_answer=True)
    checkable = []
    for r in usable:
        if verifier_for(r) is None:
            errors[r["id"]] = "nothing to verify against (no tests or reference answer in the row)"
        else:
            checkable.append(r)
    by_id = {r["id"]: r for r in checkable}

    def run(rid: str) -> dict:
        return verifier_for(by_id[rid])(answer(by_id[rid]))

    job = run_rows(ws, OP, [(r["id"], r["id"]) for r in checkable], run,
                   params={"answers": {rid: answer(r) for rid, r in by_id.items()}}, concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, list(by_id)))
    signals = []
    for rid, v in job.results.items():
        signals += [(rid, "verify.passed", v["passed"]), (rid, "verify.detail", v["detail"])]
    if signals:
        ws.add_signals(job.job_id, signals)
    return OpResult([r for r in checkable if r["id"] in job.results], errors, job.job_id, job.status)
