"""Verified outputs: run code answers against their tests, check math answers against a reference.

Code runs in the sandbox of workbench.ops.sandbox_exec (bubblewrap: no view of the user's
files, a small writable temp dir, bounded processes killed together at the deadline, no
network, no environment, CPU/memory/file-size limits).

Math answers are compared by math-verify (the `math-verify` package, Hugging Face), which
reads LaTeX, fractions, sets, intervals and units.

Where the tests and references come from: the row's meta (the source's own fields):
code tests in `test` / `tests` / `test_list` / `test_code` (plus `entry_point` for
HumanEval-style `check(candidate)` tests), math references in `reference` / `final_answer` /
`ground_truth` / `answer` / `solution`.
"""

from __future__ import annotations

import re
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


_COMMAND = re.compile(r"\\text\s*\{[^{}]*\}|\\[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z]{3,}")
MAX_MATH_CHARS = 4000  # math-verify runs without its signal-based timeout in worker threads: bound the input


def _bare_math(text: str) -> bool:
    """A reference like `\\frac{1}{2}` or `x \\in [0, 1)`: LaTeX without delimiters and without prose."""
    return "$" not in text and "\\boxed" not in text and not _WORD.search(_COMMAND.sub(" ", text))


def math_answer(text: str) -> list:
    """The final answer of `text` as math-verify parses it ([sympy value, its string], or [] when
    none is found): \\boxed{..}, 'the final answer is ..', '#### x', $..$ LaTeX, else the last
    number (math-verify's LaTeX and expression extraction). Bare LaTeX is read as one formula."""
    import logging

    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" notice, once per process
    text = text.strip()[-MAX_MATH_CHARS:]
    cfg = [LatexExtractionConfig(), ExprExtractionConfig()]
    if _bare_math(text):
        found = parse(f"${text.rstrip('.')}$", extraction_config=cfg, parsing_timeout=None)
        if found:
            return found
    return parse(text, extraction_config=cfg, parsing_timeout=None)


def verify_math(answer_text: str, reference: str) -> dict:
    """Whether the answer's final answer equals the reference's, by math-verify (Hugging Face):
    fractions vs decimals (`\\frac{1}{2}` = 0.5), sets in any order, intervals, units in
    `\\text{}`, `x = 3` vs 3, LaTeX vs plain forms. Numbers, not percent signs, are compared
    (50\\% is 50)."""
    from math_verify import verify as equivalent

    want, got = math_answer(reference), math_answer(answer_text)
    if not want:
        return {"passed": False, "kind": "math", "detail": f"cannot read the reference answer: {reference[:80]!r}"}
    if not got:
        return {"passed": False, "kind": "math", "detail": "no final answer found"}
    ok = bool(equivalent(want, got, timeout_seconds=None))
    shown = lambda found: found[-1].rsplit("####", 1)[-1].strip()  # noqa: E731 - GSM8K's "... #### 18" reads 18
    return {"passed": ok, "kind": "math", "detail": f"{shown(got)} {'=' if ok else '!='} {shown(want)}"}


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
