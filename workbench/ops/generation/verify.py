"""Verified outputs: run code answers against their tests, check math answers against a reference.

Code runs in the sandbox of workbench.ops.sandbox_exec (bubblewrap: no view of the user's
files, a small writable temp dir, bounded processes killed together at the deadline, no
network, no environment, CPU/memory/file-size limits).

Where the tests and references come from: the row's meta (the source's own fields):
code tests in `test` / `tests` / `test_list` / `test_code` (plus `entry_point` for
HumanEval-style `check(candidate)` tests), math references in `reference` / `final_answer` /
`ground_truth` / `answer` / `solution`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Sequence

from workbench.data.record import Record
from workbench.ops.base import Result
from dataclasses import dataclass

from workbench.ops.base import Context, Operation, Params, param, records_of
from workbench.ops.generation.common import answer, errors_of, rows_with_turns, run_rows
from workbench.ops.sandbox_exec import run_python

OP = "verify"
TEST_KEYS = ("test", "tests", "test_list", "test_code")
REFERENCE_KEYS = ("reference", "final_answer", "ground_truth", "answer", "solution")

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


def verify(records: Sequence[Record], ws, *, concurrency: int = 2, on_event=None, cancel=None) -> Result:
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
    return Result(OP, {}, signals=signals, rows=[r for r in checkable if r["id"] in job.results], errors=errors,
                  job_id=job.job_id, status=job.status)


@dataclass
class VerifyParams(Params):
    concurrency: int = param(2, help="answers checked at once")


class Verify(Operation):
    name = "verify"
    Params = VerifyParams
    scope = "row"
    needs_ws = True

    def run(self, ds, params, ctx: Context, rows=None) -> Result:
        if ctx.ws is None:
            raise ValueError("verify keeps its job checkpoints in a workspace: it cannot run without one")
        records = [r for batch in records_of(ds, rows) for r in batch]
        res = verify(records, ctx.ws, concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel)
        res.params = params.to_dict()
        passed = sum(1 for _, name, v in res.signals if name == "verify.passed" and v)
        res.report = {"op": "verify", "rows": len(records), "passed": passed, "errors": res.errors}
        res.summary = (f"verified {len(res.rows)} of {len(records)} rows: {passed} passed, "
                       f"{len(res.rows) - passed} did not; {len(res.errors)} could not be checked (job {res.job_id})")
        return res
